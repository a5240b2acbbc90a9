"""A restored backup loses the erased again (SDM module 60), through the real CLI, on both databases.

A person is ingested from two sources and exchanged, a backup is taken, both records are erased.
Then the backup is put back — once by the operator's own means (the file copied over the SQLite
database, ``pg_restore --clean`` on PostgreSQL), once by `kim-hub restore` — and a command that
reads the database runs: the person is not in its output, nor anywhere in the database, because
the erasure ledger's tombstones were applied again before the command read anything. The
database put back holds the person again until then: the scan finds them there first.

The ledger is scanned too: it names the erased records only by keyed digests.

A crash between the tombstone and the database's commit (SIGKILL at the crash point
``tombstone``), and one after the commit before the copies were cleared (``erased``), still end
with the person erased everywhere at the next command: database, archive/, outbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kim_hub.runtime.crashpoints import CRASH_ENV
from tests.support import csv_text, deliver, init_home, run_cli

pytestmark = pytest.mark.e2e

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,consent_recipients,updated_at\n"
ERASED = ("CV-ERASE-7731", "962D007731")
KEPT = ("CV-KEEP-1204", "962D001204")
ERASED_NAME = "Haddad"


def deliver_both(home: Path) -> None:
    """The erased person and a kept one, at the charity and at the job centre (consent: kim)."""
    for source, (erased, kept), status, opened in (
        ("caritas", (ERASED[0], KEPT[0]), "active", "2026-01-15"),
        ("jobcenter", (ERASED[1], KEPT[1]), "assessment", "2026-01-10"),
    ):
        rows = [
            f"{erased},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,{status},{opened},kim,2026-11-20",
            f"{kept},Oksanenko,Iryna,1979-06-02,F,UKR,Probegasse 9,51375,active,2026-02-01,kim,2026-11-20",
        ]
        deliver(home / "inbox" / source, f"{source}.csv", csv_text(rows, HEADER))


def links(home: Path) -> dict[tuple[str, str], str]:
    """`kim-hub links` as (source, record id) → pseudonym (the job centre's ids are tokens)."""
    rows = json.loads(run_cli("links", "--format", "json", home=home).stdout)
    return {(r["source"], r["record_id"]): r["person_id"] for r in rows}


def ingested(home: Path, api: str) -> tuple[str, str, str]:
    """Ingest both deliveries; the erased person's pseudonym, and the job centre's tokens of the
    erased and the kept record (its Kundennummer is kept only encrypted)."""
    run_cli("ingest", home=home, api=api)
    found = links(home)
    pseudonym = found[("caritas", ERASED[0])]
    tokens = {person: record_id for (source, record_id), person in found.items() if source == "jobcenter"}
    assert pseudonym in tokens, "one person in two sources"
    kept = tokens[found[("caritas", KEPT[0])]]
    assert ERASED[1] not in tokens[pseudonym] and KEPT[1] not in kept
    return pseudonym, tokens[pseudonym], kept


def database_text(url: str) -> bytes:
    """Every row of every table of the hub database, as bytes: what the database holds, read
    directly (not through the hub, which would bring it up to the ledger first)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = connection.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type='table'"
                if engine.dialect.name == "sqlite"
                else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ).scalars()
        rows = [str(row) for table in list(tables) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
    engine.dispose()
    return "\n".join(rows).encode()


def database_bytes(home: Path, url: str) -> bytes:
    """SQLite: every byte of the database's files (with the write-ahead log); PostgreSQL: its rows."""
    if url.startswith("sqlite"):
        return b"".join(p.read_bytes() for p in sorted((home / "var").glob("hub.db*")))
    return database_text(url)


def holds(data: bytes, needles: list[str]) -> list[str]:
    return [n for n in needles if n.encode() in data or n.encode("utf-16-le") in data]


def put_back_by_hand(home: Path, url: str, backup: Path) -> None:
    """The operator restores the backup with their own tools, not with `kim-hub restore`."""
    if url.startswith("sqlite"):
        for stale in (home / "var").glob("hub.db-*"):
            stale.unlink()
        shutil.copyfile(backup, home / "var" / "hub.db")
        return
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={libpq}", str(backup)],
        check=True,
        capture_output=True,
    )


def hub_url(home: Path, database_url: str) -> str:
    return database_url or f"sqlite:///{home / 'var' / 'hub.db'}"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_restored_backup_loses_the_erased_person_before_any_command_reads_it(
    tmp_path: Path, database_url: str, prefect_api: str
) -> None:
    sqlite = database_url.startswith("sqlite")
    home = init_home(tmp_path / "home", "" if sqlite else database_url, api=prefect_api)
    url = hub_url(home, "" if sqlite else database_url)
    deliver_both(home)
    pseudonym, token, kept = ingested(home, prefect_api)
    backup = tmp_path / "backups" / "before-erasure.backup"
    run_cli("backup", "--out", str(backup), home=home)
    assert backup.stat().st_mode & 0o777 == 0o600

    run_cli("erase", "--source", "caritas", "--record-id", ERASED[0], home=home, api=prefect_api)
    run_cli("erase", "--source", "jobcenter", "--record-id", ERASED[1], home=home, api=prefect_api)  # the Kundennummer
    traces = [*ERASED, token, pseudonym]
    assert not holds(database_bytes(home, url), traces)
    ledger = (home / "var" / "erasures.ledger").read_bytes()
    assert ledger.count(b"\n") == 2 and not holds(ledger, [*traces, ERASED_NAME, "Samira"]), "tombstones hold no id"
    assert (home / "var" / "erasures.ledger").stat().st_mode & 0o777 == 0o600

    # the operator puts the backup back by hand; the next command, whatever it is, reads no erased person
    put_back_by_hand(home, url, backup)
    assert holds(database_bytes(home, url), [ERASED[0], token]) == [ERASED[0], token], "the restored database holds them"
    after = links(home)
    assert not holds(json.dumps(list(after)).encode(), traces) and pseudonym not in after.values()
    assert after[("caritas", KEPT[0])] == after[("jobcenter", kept)], "the other person is still there"
    assert not holds(database_bytes(home, url), traces), "gone from the database, not only from the output"

    # `kim-hub restore` does the same before it returns
    restored = run_cli("restore", str(backup), home=home)
    assert "2 erasure(s) recorded since the backup applied again: 2 records and 1 persons erased" in restored.stdout
    assert not holds(database_bytes(home, url), traces)
    assert set(links(home)) == {("caritas", KEPT[0]), ("jobcenter", kept)}
    audit = run_cli("audit", "--action", "erase.records", "--format", "json", home=home).stdout
    assert "re-applied" in audit and '"ledger_sequence": 2' in audit and not holds(audit.encode(), traces)
    assert run_cli("audit", "verify", home=home).returncode == 0, "the restore started the audit log's anchor anew"
    restored_entry = run_cli("audit", "--action", "database.restore", "--format", "json", home=home).stdout
    assert '"entries_lost"' in restored_entry


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_crash_between_tombstone_and_commit_still_ends_erased(tmp_path: Path, database_url: str, prefect_api: str) -> None:
    sqlite = database_url.startswith("sqlite")
    home = init_home(tmp_path / "home", "" if sqlite else database_url, api=prefect_api)
    url = hub_url(home, "" if sqlite else database_url)
    deliver_both(home)
    _pseudonym, token, _kept = ingested(home, prefect_api)
    summary = home / "outbox" / "jobcenter" / "summaries" / f"{token}.summary.json"
    assert summary.exists() and any((home / "archive" / "jobcenter").iterdir())

    # killed after the commit, before the copies went: the outbox and archive still hold the record
    killed = run_cli(
        "erase", "--source", "jobcenter", "--record-id", ERASED[1], home=home, check=False, env={CRASH_ENV: "erased:1"}
    )
    assert killed.returncode == -9
    assert not holds(database_text(url), [token]) and summary.exists()
    assert ("jobcenter", token) not in links(home)
    assert not summary.exists(), "the document addressed to the erased record went at the next command"
    assert not any((home / "archive" / "jobcenter").iterdir())

    # killed after the tombstone was written, before the database committed: the record is still there
    killed = run_cli(
        "erase", "--source", "caritas", "--record-id", ERASED[0], home=home, check=False, env={CRASH_ENV: "tombstone:1"}
    )
    assert killed.returncode == -9
    assert holds(database_text(url), [ERASED[0]]), "the erasure's transaction died with the process"
    assert ("caritas", ERASED[0]) not in links(home)
    assert not holds(database_bytes(home, url), [*ERASED, token])
    assert not any((home / "archive" / "caritas").iterdir())
    ledger = (home / "var" / "erasures.ledger").read_bytes()
    assert ledger.count(b"\n") == 2 and not holds(ledger, [*ERASED, token, ERASED_NAME])
    listed = run_cli("erasures", home=home).stdout
    assert "#1" in listed and "#2" in listed and "erasure request" in listed and "2 tombstone(s)" in listed
    proof = run_cli("erasures", "--source", "caritas", "--record-id", ERASED[0], home=home)
    assert "#2" in proof.stdout and "#1 " not in proof.stdout and ERASED[0] not in proof.stdout
    for named in (ERASED[1], token):  # the Kundennummer of the request, or the token the hub showed
        proof = run_cli("erasures", "--source", "jobcenter", "--record-id", named, home=home)
        assert "#1 " in proof.stdout and "#2" not in proof.stdout and named not in proof.stdout
    assert "chain verified" in run_cli("erasures", "--verify", home=home).stdout
