"""The audit log (SDM module 43): who read what is logged, and no change to the log goes unseen.

Reads through the real CLI appear with actor, time, purpose and case reference; every change,
deletion or reordering of an entry made past the database's triggers makes `kim-hub audit
verify` fail and name the first broken entry; a retention purge keeps it green. On SQLite and
PostgreSQL (the ``hub`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from kim_hub.core.access import Access
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_chain import ChainKey, EntryContent, StoredEntry, verify_channel
from kim_hub.hub_db.keystore import load_audit_key
from kim_hub.hub_db.models import AuditCheckpoint, AuditEntry, ReviewItem, SourceRecord
from kim_hub.pipeline.audit import AuditFilter, list_entries, purge_log, verify_log
from kim_hub.pipeline.review import review_items
from tests.support import Hub, run_cli, samira_in_two_sources
from tests.support.data import TODAY, exchange_csv, person_at
from tests.support.tampering import triggers_bypassed

OS_USER = f"os:{pwd.getpwuid(os.geteuid()).pw_name}"


def with_review_item(hub: Hub) -> int:
    """Samira at caritas (C-1) and the job centre, and one review item: C-1 against C-2. The queue
    shows only persons the hub may hold for KIM (issue 20, item 2) and these rows carry no consent:
    caritas delivers here under a statute the installation declared as covering KIM."""
    hub.config.legal_bases = {"statute:Testgesetz § 1": "kim"}
    hub.config.sources["caritas"].legal_basis = "statute:Testgesetz § 1"
    hub.home.save_config(hub.config)
    samira_in_two_sources(hub)
    with hub.sessions() as session, session.begin():
        ids = {r.record_id: r.id for r in session.execute(select(SourceRecord)).scalars()}
        item = ReviewItem(record_a=ids["C-1"], record_b=ids["C-2"], score=0.55, evidence={"family_name": "different"})
        session.add(item)
    return item.id


def key_of(hub: Hub) -> ChainKey:
    return ChainKey(load_audit_key(hub.home.key_dir(hub.config)))


def reads(hub: Hub, count: int) -> None:
    """``count`` entries in the read channel (review listings, through the pipeline)."""
    for _ in range(count):
        review_items(hub.home)


def verify_cli(hub: Hub) -> tuple[int, str]:
    result = run_cli("audit", "verify", home=hub.path, check=False)
    return result.returncode, result.stdout


# --- the seal, without a database ---------------------------------------------------------------------


def test_the_sealed_form_of_an_entry_is_pinned() -> None:
    """Logs written today must verify under every later version: the canonical form and the key
    derivation may not change silently (a new form needs a new ``v``, and the old one kept)."""
    key = ChainKey(bytes(range(32)))
    entry = EntryContent(
        "read",
        1,
        dt.datetime(2026, 12, 1, 8, 30, 0, 250000, tzinfo=dt.UTC),
        "os:alice",
        "review.list",
        ("review:7", key.record("caritas", "C-1")),
        "review of uncertain matches",
        "KIM-1",
        {"status": "open", "items": 1},
    )
    assert key.record("caritas", "C-1") == "record:caritas:5d148b7641f376f8a57c5460f9d57dcc"
    assert key.person("P-0123456789AB") == "person:67ce4c69900811eaf4ee0f65f9a6d387"
    assert key.seal(key.genesis("read"), entry) == "a8faa13c1bf12c22fcd9760cd0be46a7a6c3225bde058c7e7f07c884ca95e1c1"
    assert ChainKey(bytes(range(1, 33))).seal(key.genesis("read"), entry) != key.seal(key.genesis("read"), entry)


def test_a_chain_breaks_at_the_first_changed_entry_and_only_the_key_can_mend_it() -> None:
    key = ChainKey(bytes(range(32)))
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    chain, previous = [], key.genesis("read")
    for seq in (1, 2, 3):
        content = EntryContent("read", seq, at, "os:alice", "links.export", ("index",), "export", None, {"records": seq})
        previous = key.seal(previous, content)
        chain.append(StoredEntry(content, previous))
    assert verify_channel(key, "read", chain, [], (3, chain[-1].mac)).intact
    changed = EntryContent("read", 2, at, "os:alice", "links.export", ("index",), "export", None, {"records": 99})
    tampered = [chain[0], StoredEntry(changed, chain[1].mac), chain[2]]
    assert verify_channel(key, "read", tampered, []).broken_at == 2
    other = ChainKey(bytes(range(1, 33)))  # re-sealed by someone without the hub's key
    resealed, previous = [], other.genesis("read")
    for stored in [chain[0], StoredEntry(changed, ""), chain[2]]:
        previous = other.seal(previous, stored.content)
        resealed.append(StoredEntry(stored.content, previous))
    assert verify_channel(key, "read", resealed, []).broken_at == 1


# --- reads are logged --------------------------------------------------------------------------------


def test_a_review_list_through_the_cli_is_logged_with_actor_time_purpose_and_case(hub: Hub) -> None:
    item = with_review_item(hub)
    before = dt.datetime.now(dt.UTC)
    listed = run_cli("review", "list", "--purpose", "Prüfung der Zuordnung", "--case-ref", "KIM-2026/0042", home=hub.path)
    after = dt.datetime.now(dt.UTC)
    assert f"#{item}" in listed.stdout and "C-1" in listed.stdout

    shown = run_cli("audit", "--action", "review.list", "--format", "json", home=hub.path)
    (entry,) = json.loads(shown.stdout)
    assert entry["channel"] == "read" and entry["actor"] == OS_USER
    assert before <= dt.datetime.fromisoformat(entry["at"]) <= after
    assert (entry["purpose"], entry["case_ref"]) == ("Prüfung der Zuordnung", "KIM-2026/0042")
    key = key_of(hub)
    assert {f"review:{item}", key.record("caritas", "C-1"), key.record("caritas", "C-2")} <= set(entry["objects"])
    assert entry["detail"] == {"status": "open", "items": 1}
    assert "C-1" not in json.dumps(entry) and "P-" not in json.dumps(entry)  # tokens, never ids or pseudonyms

    by_record = json.loads(run_cli("audit", "--object", "caritas/C-1", "--format", "json", home=hub.path).stdout)
    assert [e["action"] for e in by_record if e["channel"] == "read"][-1:] == ["review.list"]
    by_actor = json.loads(
        run_cli("audit", "--actor", OS_USER.split(":")[1], "--channel", "read", "--format", "json", home=hub.path).stdout
    )
    assert [e["action"] for e in by_actor][-1] == "review.list"
    later = json.loads(
        run_cli("audit", "--since", after.isoformat(), "--channel", "read", "--format", "json", home=hub.path).stdout
    )
    assert later == []
    looked = json.loads(run_cli("audit", "--action", "audit.list", "--format", "json", home=hub.path).stdout)
    assert looked and "caritas/C-1" not in json.dumps(looked)  # reading the log is logged, the record by token


def test_each_reading_command_records_its_default_purpose(hub: Hub) -> None:
    samira_in_two_sources(hub)
    for command in (("links",), ("gaps",), ("transitions",), ("report", "--out", "-", "--format", "json")):
        run_cli(*command, home=hub.path)
    entries = json.loads(run_cli("audit", "--channel", "read", "--format", "json", home=hub.path).stdout)
    purposes = {e["action"]: e["purpose"] for e in entries}
    assert purposes == {
        "links.export": "export of the master index",
        "gaps.list": "chain gap worklist",
        "transitions.list": "Rechtskreis transition worklist",
        "report.write": "coordination report",
    }
    links = next(e for e in entries if e["action"] == "links.export")
    assert links["objects"] == ["index"] and links["detail"] == {"records": 3}


def test_a_purpose_can_be_required_and_must_name_a_task(hub: Hub) -> None:
    with_review_item(hub)
    with pytest.raises(ConfigError):
        Access(purpose="Haddad\nSamira")
    hub.config.audit.require_purpose = True
    hub.home.save_config(hub.config)
    refused = run_cli("review", "list", home=hub.path, check=False)
    assert refused.returncode == 2 and "--purpose is required" in refused.stderr
    assert "#" not in refused.stdout  # no entry, no data
    assert run_cli("review", "list", "--purpose", "Zuordnung prüfen", home=hub.path).returncode == 0


def test_the_log_is_searched_by_tokens_and_hashes_never_by_an_id_in_clear(hub: Hub) -> None:
    samira_in_two_sources(hub)
    with hub.sessions() as session:
        delivery = session.execute(select(AuditEntry.objects).where(AuditEntry.action == "ingest.file")).scalars().first()
    assert delivery is not None
    (found,) = list_entries(hub.home, AuditFilter(objects=(delivery[0],)))
    assert found.action == "ingest.file"  # a file by its hash, as listed
    for typed in ("record:caritas:C-1", "Haddad", "caritas/"):
        with pytest.raises(ConfigError):
            list_entries(hub.home, AuditFilter(objects=(typed,)))
    with pytest.raises(ConfigError):
        list_entries(hub.home, AuditFilter(actor="Samira Haddad"))
    with hub.sessions() as session:
        listings = session.execute(select(AuditEntry.detail).where(AuditEntry.action == "audit.list")).scalars().all()
    assert listings == [{"filter": {"objects": [delivery[0]]}, "entries": 1}]  # refused filters leave no entry


# --- inputs, changes, transfers, admin ---------------------------------------------------------------------


def test_inputs_changes_and_admin_actions_are_logged_apart(hub: Hub) -> None:
    item = with_review_item(hub)
    run_cli("review", "decide", str(item), "different", home=hub.path)
    run_cli("sources", "add", "malteser", home=hub.path)
    with hub.sessions() as session:
        logged = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    by_channel: dict[str, list[str]] = {}
    for entry in logged:
        by_channel.setdefault(entry.channel, []).append(entry.action)
    assert by_channel["input"] == ["ingest.file", "ingest.file"]
    assert by_channel["change"] == ["review.decide"]
    assert by_channel["admin"] == ["init", "sources.add"]
    ingest = next(e for e in logged if e.channel == "input")
    assert ingest.objects[0].startswith("file:caritas:") and ingest.detail["accepted"] == 2
    assert "c.csv" not in json.dumps([(e.objects, e.detail) for e in logged])  # a file by hash, never by name
    for channel in by_channel:  # each channel its own chain, numbered from 1
        assert sorted(e.seq for e in logged if e.channel == channel) == list(range(1, len(by_channel[channel]) + 1))


def test_an_erasure_rewrites_no_entry_and_leaves_no_id_in_the_log(hub: Hub) -> None:
    from kim_hub.pipeline.erasure import erase

    hub.drop("caritas", "c.csv", exchange_csv(person_at("C-1")))  # both consenting: summaries go both ways
    hub.drop("jobcenter", "j.csv", exchange_csv(person_at("962D000001")))
    hub.sync()
    assert hub.push(TODAY).summaries_sent == 2
    reads(hub, 1)
    assert erase(hub.home, hub.sessions, "caritas", "C-1").records_erased == 1
    with hub.sessions() as session:
        logged = session.execute(select(AuditEntry)).scalars().all()
    erasure = next(e for e in logged if e.action == "erase.records")
    assert erasure.channel == "change" and erasure.objects == [key_of(hub).record("caritas", "C-1")]
    assert key_of(hub).record("caritas", "C-1") in next(e for e in logged if e.action == "transfer.summary").objects
    assert "C-1" not in json.dumps([(e.objects, e.detail) for e in logged])
    assert verify_log(hub.home).intact


# --- tampering is seen -------------------------------------------------------------------------------------


def test_the_database_refuses_to_change_or_delete_an_entry(hub: Hub) -> None:
    reads(hub, 2)
    engine = create_engine(hub.home.database_url(hub.config))
    for statement in (
        "UPDATE audit_log SET actor = 'os:someone' WHERE channel = 'read' AND seq = 1",
        "DELETE FROM audit_log WHERE channel = 'read' AND seq = 2",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()
    assert verify_log(hub.home).intact


def test_verify_names_the_first_changed_entry(hub: Hub) -> None:
    reads(hub, 4)
    assert verify_cli(hub)[0] == 0
    with triggers_bypassed(hub) as connection:
        connection.execute(text("UPDATE audit_log SET purpose = 'nothing to see' WHERE channel = 'read' AND seq = 2"))  # type: ignore[attr-defined]
    code, output = verify_cli(hub)
    assert code == 1 and "read" in output and "BROKEN at #2: entry #2 was changed" in output
    assert "input" in output and output.count("BROKEN") == 1  # the other channels stand


@pytest.mark.parametrize(
    ("statements", "broken"),
    [
        (["DELETE FROM audit_log WHERE channel = 'read' AND seq = 2"], "BROKEN at #2: entry #2 is missing"),
        (["DELETE FROM audit_log WHERE channel = 'read' AND seq IN (1, 2)"], "BROKEN at #1: entries #1 to #2 are missing"),
        (["DELETE FROM audit_log WHERE channel = 'read' AND seq = 4"], "BROKEN at #4: entry #4 is missing from the end"),
        (
            [  # #2 and #3 trade places
                "UPDATE audit_log SET seq = 99 WHERE channel = 'read' AND seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE channel = 'read' AND seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE channel = 'read' AND seq = 99",
            ],
            "BROKEN at #2: entry #2 was changed, or moved out of its place",
        ),
        (
            [  # a checkpoint made up to let #1 and #2 go
                "INSERT INTO audit_checkpoints (channel, upto_seq, chain_mac, purged, before, created_at, actor, mac)"
                " VALUES ('read', 2, 'x', 2, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'os:x', 'forged')",
                "DELETE FROM audit_log WHERE channel = 'read' AND seq <= 2",
            ],
            "BROKEN at #1: a retention checkpoint after #0 is not the hub's",
        ),
    ],
    ids=["deleted", "deleted-first", "cut-from-the-end", "reordered", "forged-checkpoint"],
)
def test_verify_names_the_first_deleted_or_moved_entry(hub: Hub, statements: list[str], broken: str) -> None:
    reads(hub, 4)
    with triggers_bypassed(hub) as connection:
        for statement in statements:
            connection.execute(text(statement))  # type: ignore[attr-defined]
    code, output = verify_cli(hub)
    assert code == 1 and broken in output, output


# --- retention ---------------------------------------------------------------------------------------------


def test_a_retention_purge_keeps_the_log_verifiable(hub: Hub) -> None:
    reads(hub, 5)
    with hub.sessions() as session:
        times = dict(session.execute(select(AuditEntry.seq, AuditEntry.created_at).where(AuditEntry.channel == "read")).all())
    # six months and a day after the third read: the first two are due, the rest not yet
    purged = purge_log(hub.home, hub.config, now=_utc(times[3]) + dt.timedelta(days=183))
    assert purged == {"read": 2}
    reads(hub, 2)
    with hub.sessions() as session:
        left = (
            session.execute(select(AuditEntry.seq).where(AuditEntry.channel == "read").order_by(AuditEntry.seq)).scalars().all()
        )
        checkpoint = session.execute(select(AuditCheckpoint)).scalar_one()
        purge_entry = session.execute(select(AuditEntry).where(AuditEntry.action == "audit.purge")).scalar_one()
    assert left == [3, 4, 5, 6, 7] and (checkpoint.channel, checkpoint.upto_seq, checkpoint.purged) == ("read", 2, 2)
    assert purge_entry.channel == "admin" and purge_entry.detail["entries"] == 2
    code, output = verify_cli(hub)
    assert code == 0 and "#1 to #2 purged behind a checkpoint" in output, output

    assert purge_log(hub.home, hub.config, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=400)) == {"read": 5}
    reads(hub, 1)  # the next entry chains to the checkpoint of a channel purged empty
    assert verify_cli(hub)[0] == 0
    assert run_cli("audit", "purge", home=hub.path).stdout.startswith("read     0 entries removed")


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def test_hub_toml_holds_the_retention_periods(hub: Hub) -> None:
    written = hub.home.config_file.read_text()
    assert "[audit.retention_days]\n" in written and "\nread = 183\n" in written
    assert hub.home.load_config().audit.retention_days == {"read": 183}
    hub.home.config_file.write_text(written.replace("read = 183", "reads = 183"))
    with pytest.raises(ConfigError, match="retention_days"):
        hub.home.load_config()
