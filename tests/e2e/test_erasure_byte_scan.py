"""Erasure leaves no trace: a byte scan of the whole home after the real CLI erased a person.

Ingest (with push) through the real CLI, erase both records of a person that was exchanged
between two bodies, and scan every byte under the home — the SQLite database with its WAL and
free pages, Prefect's database, logs, outboxes, archives, failed deliveries, reports — for the
records' ids, the person's name and pseudonym. Each source also delivered the same rows as a
UTF-16 file the hub refuses whole, so failed/ holds the person in clear until the erasure. The
other person in the same deliveries stays, so the scan is not of an empty hub; a companion check
proves the scan finds a planted id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import csv_text, deliver, init_home, run_cli

pytestmark = pytest.mark.e2e

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,consent_recipients,updated_at\n"
ERASED = ("CV-ERASE-7731", "962D007731")
KEPT = ("CV-KEEP-1204", "962D001204")
ERASED_NAME = "Haddad"  # the erased person's family name: in clear only in the delivered files


def deliver_rows(home: Path, source: str, rows: list[str]) -> None:
    deliver(home / "inbox" / source, f"{source}.csv", csv_text(rows, HEADER))
    # the same rows as Excel's "Unicode text" (UTF-16): refused whole, so they lie in failed/ in clear
    deliver(home / "inbox" / source, f"{source}-unicode.csv", csv_text(rows, HEADER).encode("utf-16"))


def scan(home: Path, needles: list[str]) -> list[str]:
    """Files under the home whose bytes contain any needle (UTF-8 and UTF-16)."""
    patterns = [n.encode(encoding) for n in needles for encoding in ("utf-8", "utf-16-le")]
    return sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and any(x in p.read_bytes() for x in patterns))


def test_an_erased_person_leaves_no_byte_anywhere_in_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home)  # the fixed test key
    deliver_rows(
        home,
        "caritas",
        [
            f"{ERASED[0]},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,active,2026-01-15,kim,2026-11-20",
            f"{KEPT[0]},Oksanenko,Iryna,1979-06-02,F,UKR,Probegasse 9,51375,active,2026-02-01,kim,2026-11-20",
        ],
    )
    deliver_rows(
        home,
        "jobcenter",
        [
            f"{ERASED[1]},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,assessment,2026-01-10,kim,2026-11-19",
            f"{KEPT[1]},Oksanenko,Iryna,1979-06-02,F,UKR,Probegasse 9,51375,active,2026-02-03,kim,2026-11-19",
        ],
    )
    run_cli("ingest", home=home)
    links = {
        (r["source"], r["record_id"]): r["person_id"] for r in json.loads(run_cli("links", "--format", "json", home=home).stdout)
    }
    pseudonym = links[("caritas", ERASED[0])]
    token = next(record_id for (source, record_id), person in links.items() if source == "jobcenter" and person == pseudonym)
    assert ERASED[1] not in token  # the job centre's id is kept, exported and named only as a token
    assert (home / "outbox" / "jobcenter" / "summaries" / f"{token}.summary.json").exists()
    assert scan(home, [ERASED[0]]), "the scan finds an id that is there"
    assert scan(home, [ERASED_NAME]) == [
        "archive/caritas/caritas.csv",
        "archive/jobcenter/jobcenter.csv",
        "failed/caritas/caritas-unicode.csv",
        "failed/jobcenter/jobcenter-unicode.csv",
    ]

    run_cli("erase", "--source", "caritas", "--record-id", ERASED[0], home=home)
    run_cli("erase", "--source", "jobcenter", "--record-id", ERASED[1], home=home)  # by the clear Kundennummer

    assert scan(home, [*ERASED, token, pseudonym, ERASED_NAME]) == []
    assert scan(home, [KEPT[0]]), "the other person is still there"
