"""Test data more than one test module uses: CSV rows and headers, the report's small home, truth files.

All persons are synthetic. Rows are lines of CSV without the header; ``csv_text`` (in
``tests.support.files``) or ``Hub.drop_rows`` puts a header on top.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from tests.support.files import csv_text
from tests.support.paths import FIXTURES

# --- provider CSV: the ingest path -------------------------------------------------------------------

HEADER = "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,azr_number,case_status\n"
"""The provider CSV header of ``GOOD``, ``FLAWED``, ``UNATTRIBUTABLE`` and ``SAMIRA_AT_JOBCENTRE``."""

GOOD = [
    "C-1,Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,,active",
    "C-2,Testova,Marta,1975-11-02,F,UKR,Beispielallee 7,51375,,intake",
]
"""Two rows that map: Samira Haddad and Marta Testova at caritas."""

FLAWED = [
    "C-3,Quux,Yara,31.02.1990,F,SYR,Testweg 3,51373,,active",  # impossible date: kept as February 1990
    "C-4,,Noor,1991-01-05,F,SYR,Testweg 4,51373,,active",  # no family name: one name is a name
    "C-5,Zed,Omar,1992-02-06,F,XYZ,Testweg 5,51373,12345,active",  # unknown code, short AZR: both left out
]
"""Three rows that land with a note each (rows 4, 5 and 6 of a file GOOD + FLAWED + UNATTRIBUTABLE)."""

UNATTRIBUTABLE = [
    ",Quux,Yara,1993-03-07,F,SYR,Testweg 7,51373,,active",  # no record id: nobody could correct it
    "C-8,,,,F,SYR,,,,active",  # no name, birth date, address or identifier: nothing to link on
]
"""Two rows rejected whole (rows 7 and 8 of a file GOOD + FLAWED + UNATTRIBUTABLE)."""

SAMIRA_AT_JOBCENTRE = "962D000001,HADDAD,SAMIRA,1988-03-14,F,SYR,Testweg 1,51373,,active"
"""The job centre's record of GOOD's Samira (capitals): one person with caritas' C-1."""

# --- the exchange: consent columns ---------------------------------------------------------------------

EXCHANGE_HEADER = (
    "record_id,family_name,given_names,birth_date,sex,nationality,street,postcode,case_status,case_opened,"
    "consent_recipients,consent_withdrawn,updated_at\n"
)
"""The provider CSV header of ``person_at`` rows (with consent and the row's date)."""

TODAY = dt.date(2026, 11, 25)
"""The day the exchange tests push on."""


def exchange_csv(*rows: str) -> str:
    """A provider CSV file of ``person_at`` rows under ``EXCHANGE_HEADER``."""
    return csv_text(rows, EXCHANGE_HEADER)


def person_at(
    record_id: str, consent: str = "kim", withdrawn: str = "", status: str = "active", updated: str = "2026-11-20"
) -> str:
    """Samira Haddad's row under ``record_id`` (an ``EXCHANGE_HEADER`` row): consent, withdrawal, status."""
    return f"{record_id},Haddad,Samira,1988-03-14,F,SYR,Testweg 1,51373,{status},2026-01-15,{consent},{withdrawn},{updated}"


# --- the report's small home ----------------------------------------------------------------------------

REPORT_HEADER = (
    "record_id,family_name,given_names,birth_date,sex,nationality,postcode,rechtskreis,case_status,case_opened,"
    "case_closed,district,consent_recipients\n"
)
"""The provider CSV header of ``REPORT_ROWS`` (Rechtskreis, case dates, district and consent for the report)."""

REPORT_ROWS = {
    "caritas": [
        "C-1,Haddad,Samira,1988-03-14,F,SYR,51373,AsylbLG,active,2026-10-05,,Opladen,kim",
        "C-2,Testova,Marta,1975-11-02,F,UKR,51375,SGB II,closed,2025-01-10,2026-11-02,Opladen,kim",
        "C-3,Rahimi,Ahmad,01.01.1990,M,AFG,51377,AsylbLG,intake,2026-11-20,,Wiesdorf,kim",
        ",Quux,Yara,31.01.1990,F,SYR,51373,AsylbLG,active,2026-10-01,,Opladen,kim",  # rejected: no record id
    ],
    "jobcenter": ["962D000001,HADDAD,SAMIRA,1988-03-14,F,SYR,51373,SGB II,active,2026-11-01,,Opladen,"],
    "stadt": ["S-1,Haddad,Samira,14.03.1988,F,SYR,51373,AsylbLG,active,2026-09-01,,Opladen,kim"],
}
"""Three persons: Samira in three sources, Marta (closed case), Ahmad; one row rejected (no record id).
Each consented to KIM at caritas (the job centre's export carries no consent)."""

CLEAR_IDENTITY = (
    "Haddad",
    "HADDAD",
    "Samira",
    "SAMIRA",
    "Testova",
    "Marta",
    "Rahimi",
    "Ahmad",
    "Quux",
    "Yara",
    "1988-03-14",
    "14.03.1988",
    "962D000001",
)
"""Every clear value of ``REPORT_ROWS`` a report must never show."""

# --- files of tests/fixtures --------------------------------------------------------------------------------

JOBCENTER_EXPORT = FIXTURES / "jobcenter" / "JC_KIM_20261124.csv"
"""A hand-made job-centre export (Windows-1252, CRLF, trailer)."""

ABH_GOOD = FIXTURES / "abh" / "good.xml"
"""The authority's messages, schema 1.0 (four messages)."""

ABH_GOOD_V11 = FIXTURES / "abh" / "good_v11.xml"
"""The authority's messages, schema 1.1 (tod, zustaendigkeitswechsel, ausreise)."""

# --- the standard sample (../shared/samples/standard) -----------------------------------------------------

STANDARD_F1_FLOOR = 0.97
"""Pairwise F1 the hub must reach on the standard sample (tests/e2e): a floor, not a target.
Measured with the fixed test key under the identifier policy: P 0.9907 / R 0.9844 / F1 0.9875 (SQLite;
0.9887 before it, benchmarks/README.md "Identifier policy")."""

# --- truth files -----------------------------------------------------------------------------------------------


def truth_rows(path: Path) -> list[dict[str, str]]:
    """Every row of a truth file (``source,record_id,person``) as written, duplicates included."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """A truth file as (source, record_id) → true person, what ``pairwise_score`` compares against."""
    return {(row["source"], row["record_id"]): row["person"] for row in truth_rows(path)}


def stored_truth(path: Path, home: Path) -> dict[tuple[str, str], str]:
    """``read_truth`` with each record id as the hub at ``home`` stores and exports it: the
    sources whose ids it keeps encrypted (the job centre's) show tokens (pipeline.record_ids)."""
    from kim_hub.pipeline.home import HubHome
    from kim_hub.pipeline.record_ids import RecordIdForms

    hub_home = HubHome(home)
    forms = RecordIdForms.of(hub_home, hub_home.load_config())
    return {(source, forms.stored(source, record_id)): person for (source, record_id), person in read_truth(path).items()}
