"""The erasure ledger: tombstones without ids, a chain that names the first broken entry, a torn
last line that is no entry, a ledger behind the database that stops the hub, and the retention
plan that lists every category and deletes nothing.

The end-to-end proof (a restored backup, a crash between tombstone and commit, through the real
CLI on SQLite and PostgreSQL) is tests/e2e/test_restore_erases_again.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.erasure_ledger import RULE_LOST, RULE_REQUEST, RULE_RETENTION, ErasureLedger
from kim_hub.hub_db.erasure_state import applied_sequence
from kim_hub.hub_db.models import AuditEntry, SourceRecord
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.erasure import apply_retention, erase
from kim_hub.pipeline.tombstones import acknowledge_loss, erasure_ledger
from tests.support import Hub, run_cli, samira_in_two_sources
from tests.support.data import HEADER

KEY = b"a fixed ledger key for the tests, 32+ bytes long"


def ledger_at(path: Path) -> ErasureLedger:
    return ErasureLedger(path, lambda: KEY)


def three_entries(path: Path) -> ErasureLedger:
    ledger = ledger_at(path)
    with ledger.locked():
        for number in range(3):
            ledger.append(RULE_REQUEST, "caritas", [ledger.digest("caritas", f"C-{number}")], {"records": 1})
    return ledger


def test_an_erasure_leaves_a_tombstone_that_names_the_record_only_by_a_keyed_digest(hub: Hub) -> None:
    samira_in_two_sources(hub)
    pseudonym = hub.pseudonyms()[("caritas", "C-1")]
    erase(hub.home, hub.sessions, "caritas", "C-1")
    ledger = erasure_ledger(hub.home, hub.config)
    [tombstone] = ledger.entries()
    assert (tombstone.seq, tombstone.rule, tombstone.source) == (1, RULE_REQUEST, "caritas")
    assert tombstone.counts["records"] == 1 and tombstone.counts["persons"] == 0, "Samira is still known to the job centre"
    assert tombstone.counts["links"] == 1
    raw = ledger.path.read_bytes()
    assert b"C-1" not in raw and pseudonym.encode() not in raw and b"Samira" not in raw
    assert ledger.path.stat().st_mode & 0o777 == 0o600
    assert [t.seq for t in ledger.find("caritas", "C-1")] == [1] and ledger.find("caritas", "C-2") == []
    assert ledger.find("jobcenter", "C-1") == [], "the digest binds the source"
    with hub.sessions() as session:
        assert applied_sequence(session) == 1
        details = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "erase.records")).scalars().all()
    assert details == [{"records": 1, "persons": 0, "reason": RULE_REQUEST, "ledger_sequence": 1}]
    assert erase(hub.home, hub.sessions, "caritas", "nope").records_erased == 0
    assert len(ledger.entries()) == 1, "an unknown record leaves no tombstone"


def test_retention_leaves_tombstones_of_its_own_rule(hub: Hub) -> None:
    rows = ["C-7,Closedova,Anna,1970-01-02,F,UKR,Weg 1,51373,,closed,2024-01-31"]
    hub.drop_rows("caritas", "r.csv", rows, header=HEADER.rstrip("\n") + ",case_closed\n")
    hub.ingest("caritas")
    hub.config.sources["caritas"].retention_days = 365
    apply_retention(hub.home, hub.config, hub.sessions, today=dt.date(2026, 11, 25))
    [tombstone] = erasure_ledger(hub.home, hub.config).entries()
    assert (tombstone.rule, tombstone.source, tombstone.counts["records"]) == (RULE_RETENTION, "caritas", 1)


def test_a_database_older_than_the_ledger_is_brought_up_to_it_before_sessions_are_handed_out(hub: Hub) -> None:
    samira_in_two_sources(hub)
    ledger = erasure_ledger(hub.home, hub.config)
    with ledger.locked():  # as if the erasure's transaction had died after its tombstone was written
        # the digest is of the Kundennummer the job centre knows; the database holds its token
        ledger.append(RULE_REQUEST, "jobcenter", [ledger.digest("jobcenter", "962D000001")], {"records": 1})
    token = hub.stored_id("jobcenter", "962D000001")
    with hub.sessions() as session:  # the fixture's own sessions, not the hub's: they do not catch up
        held = set(session.execute(select(SourceRecord.source, SourceRecord.record_id)))
    assert ("jobcenter", token) in held and token != "962D000001"
    with open_sessions(hub.home, hub.config) as sessions, sessions() as session:
        left = set(session.execute(select(SourceRecord.source, SourceRecord.record_id)))
        assert applied_sequence(session) == 1
    assert left == held - {("jobcenter", token)}


def test_the_chain_names_the_first_changed_removed_or_moved_entry(tmp_path: Path) -> None:
    path = tmp_path / "erasures.ledger"
    ledger = three_entries(path)
    assert ledger.verify().ok and ledger.verify().entries == 3
    lines = path.read_bytes().splitlines(keepends=True)

    changed = json.loads(lines[1])
    changed["counts"]["records"] = 0
    path.write_bytes(lines[0] + json.dumps(changed).encode() + b"\n" + lines[2])
    assert (ledger.verify().broken_at, ledger.verify().problem) == (2, "chain broken (changed, removed or moved entry)")

    path.write_bytes(lines[0] + lines[2])
    assert (ledger.verify().broken_at, ledger.verify().problem) == (2, "out of sequence")

    path.write_bytes(lines[0] + lines[2] + lines[1])
    assert ledger.verify().broken_at == 2

    path.write_bytes(lines[0] + b"not json\n" + lines[2])
    assert (ledger.verify().broken_at, ledger.verify().problem) == (2, "not a tombstone")

    path.write_bytes(b"".join(lines))
    assert ledger_at(path).verify().ok
    assert not ErasureLedger(path, lambda: b"another key, 32 bytes or more....").verify().ok, "sealed by the key"


def test_a_line_cut_short_by_a_crash_is_no_entry_and_the_next_append_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "erasures.ledger"
    ledger = three_entries(path)
    whole = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(b'{"at":"2026-12-06T10:00:00Z","chain":"ab')  # the process died mid-write
    assert ledger.last_sequence() == 3 and len(ledger.entries()) == 3
    with ledger.locked():
        assert ledger.append(RULE_REQUEST, "awo", [], {"records": 1}).seq == 4
    assert path.read_bytes().startswith(whole) and ledger.verify().ok and ledger.verify().entries == 4


def test_a_long_ledger_is_read_from_its_tail(tmp_path: Path) -> None:
    path = tmp_path / "erasures.ledger"
    ledger = ledger_at(path)
    many = [f"{n:032x}" for n in range(3000)]  # one retention run of 3000 records: a line of ~100 kB
    with ledger.locked():
        ledger.append(RULE_RETENTION, "caritas", many, {"records": 3000})
        ledger.append(RULE_RETENTION, "awo", many, {"records": 3000})
    assert ledger.last_sequence() == 2 and ledger.verify().ok


def test_a_ledger_behind_the_database_stops_the_hub_until_the_loss_is_recorded(hub: Hub) -> None:
    samira_in_two_sources(hub)
    erase(hub.home, hub.sessions, "caritas", "C-1")
    ledger = erasure_ledger(hub.home, hub.config)
    ledger.path.unlink()  # lost, or put back from a copy older than the database
    with pytest.raises(FatalError, match="lost entries"), open_sessions(hub.home, hub.config):
        pass
    lost = acknowledge_loss(hub.home, hub.config, hub.sessions)
    assert lost is not None and (lost.seq, lost.rule, lost.lost) == (1, RULE_LOST, (1, 1))
    with open_sessions(hub.home, hub.config):
        pass
    erase(hub.home, hub.sessions, "jobcenter", "962D000001")
    assert [t.seq for t in ledger.entries()] == [1, 2] and ledger.verify().ok
    assert [t.seq for t in ledger.find("jobcenter", "962D000001")] == [2], "named by the id the job centre knows"
    assert acknowledge_loss(hub.home, hub.config, hub.sessions) is None


def test_a_database_from_before_the_ledger_needs_init_only_once_there_are_tombstones(hub: Hub) -> None:
    with hub.sessions() as session, session.begin():
        session.execute(text("DROP TABLE erasure_state"))
    with open_sessions(hub.home, hub.config):
        pass  # no tombstones: an old database still opens
    ledger = erasure_ledger(hub.home, hub.config)
    with ledger.locked():
        ledger.append(RULE_REQUEST, "caritas", [ledger.digest("caritas", "C-1")], {"records": 1})
    with pytest.raises(ConfigError, match="kim-hub init"), open_sessions(hub.home, hub.config):
        pass


def test_retention_plan_lists_every_category_with_its_rule_and_deletes_nothing(hub: Hub) -> None:
    rows = [
        "C-7,Closedova,Anna,1970-01-02,F,UKR,Weg 1,51373,,closed,2024-01-31",
        "C-8,Openova,Olga,1971-02-03,F,UKR,Weg 2,51373,,active,",
    ]
    hub.drop_rows("caritas", "r.csv", rows, header=HEADER.rstrip("\n") + ",case_closed\n")
    hub.ingest("caritas")
    [archived] = (hub.path / "archive" / "caritas").iterdir()
    old = time.time() - 40 * 86_400
    os.utime(archived, (old, old))
    hub.config.sources["caritas"].retention_days = 365
    hub.config.retention.reports_days = 90
    hub.home.save_config(hub.config)

    table = run_cli("retention", "--plan", home=hub.path).stdout
    lines = table.splitlines()
    assert lines[0].split() == ["category", "scope", "period", "start", "event", "due", "now", "rule", "set", "by"]
    row = next(line for line in lines if line.startswith("case records") and " caritas " in line)
    assert "365 days" in row and "case closed" in row and "1 records" in row and "sources.caritas.retention_days" in row
    row = next(line for line in lines if line.startswith("archived deliveries") and " caritas " in line)
    assert "30 days" in row and "claim" in row and "1 files" in row and "sources.caritas.archive_days" in row
    row = next(line for line in lines if line.startswith("case records") and " awo " in line)
    assert "kept" in row and "(not set)" in row
    row = next(line for line in lines if line.startswith("linkage-only statutory records") and " jobcenter " in line)
    assert "30 days" in row and "0 records" in row and "sources.jobcenter.linkage_only_days" in row
    row = next(line for line in lines if line.startswith("linkage-only statutory records") and " caritas " in line)
    assert "no record held only for linkage" in row
    row = next(line for line in lines if line.startswith("audit log: read entries"))
    assert "183 days" in row and "0 entries" in row and "audit.retention_days.read" in row
    row = next(line for line in lines if line.startswith("audit log: change entries"))
    assert "kept" in row and "audit.retention_days.change (not set)" in row
    for category in (
        "receipts",
        "linkage-only statutory records",
        "audit log: read entries",
        "reports (reports/)",
        "erasure ledger",
    ):
        assert any(line.startswith(category) for line in lines), category
    assert "nothing was deleted" in table

    plan = json.loads(run_cli("retention", "--plan", "--format", "json", home=hub.path).stdout)
    due = {(r["category"].split(" (")[0], r["scope"]): r["due"] for r in plan}
    assert due[("case records", "caritas")] == 1 and due[("archived deliveries", "caritas")] == 1
    assert due[("case records", "awo")] is None
    assert archived.exists()
    with hub.sessions() as session:
        assert session.execute(select(SourceRecord.record_id).order_by(SourceRecord.record_id)).scalars().all() == ["C-7", "C-8"]


def test_reports_past_their_period_are_purged_by_retention(hub: Hub) -> None:
    hub.home.reports.mkdir(exist_ok=True)
    stale, fresh = hub.home.reports / "links.csv", hub.home.reports / "report.json"
    for path in (stale, fresh):
        path.write_text("x")
    old = time.time() - 100 * 86_400
    os.utime(stale, (old, old))
    hub.config.retention.reports_days = 90
    apply_retention(hub.home, hub.config, hub.sessions)
    assert not stale.exists() and fresh.exists()
    with hub.sessions() as session:
        details = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "reports.purge")).scalars().all()
    assert details == [{"reason": "period over", "reports_purged": 1}]
