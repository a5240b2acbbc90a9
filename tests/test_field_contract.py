"""A row is a person: a flaw in one field costs that value, never the person.

Each phenomenon below was found in exports from real systems and public benchmark data: Excel
strips the leading zero of 01067, data entry swaps day and month and types impossible dates,
registers hold birth years before 1900, many people of this population have one name only. The
field contract (mappings/contract.py) settles each one, and the receipt says what it did by row
and field, never with the value.
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from pathlib import Path

import pytest

from kim_hub.core.errors import ConfigError
from kim_hub.core.rows import Note, RawRow
from kim_hub.mappings.case_summary import BirthDate, CaseData, CaseSummary, Identity, PersonName
from kim_hub.mappings.contract import Action, FieldContract, contract_for
from kim_hub.mappings.dates import ImplausibleDateError, parse_birth_date
from kim_hub.mappings.provider_csv import map_provider_row
from kim_hub.pipeline import ingest
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.setup import encoding_keys, initialise

CANARY = "Zyxwvutsrq"


def _row(**fields: str) -> RawRow:
    return RawRow("export.csv", 7, {"record_id": "C-1", "family_name": "Haddad", "given_names": "Samira", **fields})


def _landed(row: RawRow, contract: FieldContract | None = None) -> CaseSummary:
    mapped = map_provider_row("caritas", row, contract)
    assert isinstance(mapped, CaseSummary), [r.describe() for r in mapped]
    return mapped


def _notes(summary: CaseSummary) -> dict[str | None, str]:
    return {note.field: note.reason for note in summary.notes}


@pytest.mark.parametrize(
    ("written", "postcode", "note"),
    [
        ("01067", "01067", None),
        ("1067", "01067", "leading zero restored"),
        (" 5 1373 ", "51373", None),
        ("SW1A 1AA", None, "not a German five-digit postcode; left out"),
        ("123", None, "left out"),
    ],
)
def test_postcodes_are_repaired_or_left_out(written: str, postcode: str | None, note: str | None) -> None:
    summary = _landed(_row(postcode=written))
    assert summary.identity.postcode == postcode
    assert (note in _notes(summary).get("postcode", "")) if note else "postcode" not in _notes(summary)


@pytest.mark.parametrize(
    ("written", "expected", "note"),
    [
        ("31.02.1990", BirthDate(year=1990, month=2, precision="month"), "day does not exist"),
        ("1990-13-05", BirthDate(year=1990, month=5, day=13, precision="day"), "other way round"),
        ("05.13.1990", BirthDate(year=1990, month=5, day=13, precision="day"), "other way round"),
        ("25.13.1990", BirthDate(year=1990, precision="year"), "month does not exist"),
        ("15.00.1990", BirthDate(year=1990, precision="year"), "a day but no month"),
        ("19900214", BirthDate(year=1990, month=2, day=14, precision="day"), None),
        ("19840230", BirthDate(year=1984, month=2, precision="month"), "day does not exist"),
    ],
)
def test_impossible_dates_keep_what_is_certain(written: str, expected: BirthDate, note: str | None) -> None:
    summary = _landed(_row(birth_date=written))
    assert summary.identity.birth_date == expected
    assert (note in _notes(summary)["birth_date"]) if note else not summary.notes


def test_a_birth_year_before_1900_is_kept_with_a_warning_unless_the_source_tightens_it() -> None:
    kept = _landed(_row(birth_date="03.04.1850"))
    assert kept.identity.birth_date == BirthDate(year=1850, month=4, day=3, precision="day")
    assert _notes(kept)["birth_date"] == "birth year before 1900; kept"
    dropped = _landed(_row(birth_date="03.04.1850"), contract_for("provider-csv").tightened({"birth_date": "drop_value"}))
    assert dropped.identity.birth_date is None and "left out" in _notes(dropped)["birth_date"]
    refused = map_provider_row(
        "caritas", _row(birth_date="03.04.1850"), contract_for("provider-csv").tightened({"birth_date": "reject_row"})
    )
    assert isinstance(refused, list) and refused[0].field == "birth_date"
    with pytest.raises(ImplausibleDateError):
        parse_birth_date("1850")


def test_a_date_in_the_future_or_in_no_form_is_left_out() -> None:
    for written in ("2099-01-01", "vor 1990", "14.3.88"):
        summary = _landed(_row(birth_date=written))
        assert summary.identity.birth_date is None and "left out" in _notes(summary)["birth_date"]


@pytest.mark.parametrize(
    ("names", "lands"),
    [
        ({"family_name": "", "given_names": "Gulbadin"}, True),
        ({"family_name": "Haddad", "given_names": ""}, True),
        ({"family_name": "", "given_names": "", "birth_date": "1990-01-05"}, True),
        ({"family_name": "", "given_names": "", "azr_number": "123456789012"}, True),
        ({"family_name": "", "given_names": ""}, False),
        ({"record_id": ""}, False),
    ],
)
def test_a_row_is_refused_only_without_an_id_or_anything_to_link_on(names: dict[str, str], lands: bool) -> None:
    mapped = map_provider_row("caritas", _row(**names))
    assert isinstance(mapped, CaseSummary) is lands


def test_a_referral_too_long_to_be_a_target_is_left_out_and_the_others_kept() -> None:
    summary = _landed(_row(referrals="jugendmigrationsdienst_caritas_koeln:offen|awo:done"))
    assert [(r.to, r.status) for r in summary.case.referrals] == [("awo", "done")]
    assert "longer than 32 characters" in _notes(summary)["referrals"]


def test_a_consent_with_a_field_that_cannot_be_read_is_not_used_at_all() -> None:
    summary = _landed(_row(consent_recipients="kim", consent_valid_until="31.02.2027"))
    assert summary.case.consent.recipients == () and summary.case.consent.valid_until is None
    assert "consent not used" in _notes(summary)["consent_recipients"]
    backwards = _landed(_row(consent_recipients="kim", consent_valid_from="2026-05-01", consent_valid_until="2026-01-01"))
    assert backwards.case.consent.recipients == ()


def test_a_case_closed_before_it_opened_loses_its_closing_date() -> None:
    summary = _landed(_row(case_opened="2026-03-01", case_closed="2026-01-01"))
    assert summary.case.case_opened is not None and summary.case.case_closed is None
    assert "closed before it was opened" in _notes(summary)["case_closed"]


def test_unknown_codes_and_bad_identifiers_are_left_out() -> None:
    summary = _landed(_row(sex="7", nationality="Atlantis", azr_number="12345", residence_status="bleiberecht_vielleicht"))
    assert (summary.identity.sex, summary.identity.nationalities, summary.identity.azr_number) == (None, (), None)
    assert summary.case.residence_status is None
    assert set(_notes(summary)) == {"sex", "nationality", "azr_number", "residence_status"}


def test_notes_never_carry_the_value() -> None:
    flawed = {
        "birth_date": f"{CANARY}1990",
        "postcode": CANARY,
        "sex": CANARY,
        "nationality": CANARY,
        "azr_number": CANARY,
        "case_status": CANARY,
        "goals": f"{CANARY}:",
        "referrals": f"{CANARY * 4}:offen",
        "consent_categories": CANARY,
        "consent_valid_until": CANARY,
    }
    summary = _landed(_row(**flawed))
    assert len(summary.notes) >= len(flawed)
    assert not [note for note in summary.notes if CANARY in note.describe()]


def test_a_source_may_tighten_the_contract_but_never_loosen_it() -> None:
    contract = contract_for("provider-csv")
    assert contract.on_invalid("record_id") is Action.REJECT_ROW and contract.on_invalid("postcode") is Action.DROP_VALUE
    assert contract.tightened({"postcode": "reject_row"}).on_invalid("postcode") is Action.REJECT_ROW
    with pytest.raises(ConfigError, match="may only tighten"):
        contract.tightened({"record_id": "drop_value"})
    with pytest.raises(ConfigError, match="unknown action"):
        contract.tightened({"postcode": "ignore"})


def _home(tmp_path: Path, contract: dict[str, str] | None = None) -> HubHome:
    home = HubHome(tmp_path / "home")
    config = initialise(home)
    if contract:
        config.sources["caritas"].contract = contract  # type: ignore[assignment]
        home.save_config(config)
    return home


def _deliver(home: HubHome, rows: list[dict[str, str]], name: str = "export.csv") -> None:
    columns = sorted({column for row in rows for column in row})
    path = home.inbox("caritas") / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.utime(path, (time.time() - 3600, time.time() - 3600))


def _ingest(home: HubHome) -> ingest.SourceOutcome:
    config = home.load_config()
    with open_sessions(home, config) as sessions:
        return ingest.ingest_source(home, config, "caritas", encoding_keys(home, config), sessions)


def test_the_receipt_says_accepted_with_notes_by_row_and_field(tmp_path: Path) -> None:
    home = _home(tmp_path)
    _deliver(
        home,
        [
            {
                "record_id": "C-1",
                "family_name": "Haddad",
                "given_names": "Samira",
                "postcode": "1067",
                "birth_date": "31.02.1990",
            },
            {"record_id": "C-2", "family_name": CANARY, "given_names": "", "postcode": "51373", "birth_date": "1990-01-05"},
        ],
    )
    outcome = _ingest(home)
    assert (outcome.records_accepted, outcome.records_rejected) == (2, 0)
    receipt = json.loads((home.outbox("caritas", "receipts") / "export.csv.receipt.json").read_text(encoding="utf-8"))
    assert receipt["status"] == "done_with_notes" and receipt["noted"] == 1
    assert {(n["row"], n["field"]) for n in receipt["notes"]} == {(2, "postcode"), (2, "birth_date")}
    text = (home.outbox("caritas", "receipts") / "export.csv.receipt.txt").read_text(encoding="utf-8")
    assert "accepted with notes" in text and CANARY not in text and "1067" not in text


def test_a_tightened_source_refuses_what_others_accept(tmp_path: Path) -> None:
    home = _home(tmp_path, {"postcode": "reject_row"})
    _deliver(
        home,
        [
            {"record_id": "C-1", "family_name": "Haddad", "given_names": "Samira", "postcode": "SW1A 1AA"},
            {"record_id": "C-2", "family_name": "Testova", "given_names": "Marta", "postcode": "51373"},
        ],
    )
    outcome = _ingest(home)
    assert (outcome.records_accepted, outcome.records_rejected) == (1, 1)
    assert "contract" in (home.config_file.read_text(encoding="utf-8"))


def test_an_export_shaped_like_a_public_benchmark_lands_every_record(tmp_path: Path) -> None:
    """Birth years before 1900, foreign postcodes, a tenth without a family name, a fifth without
    a birth date, English headers and compact dates (the second public benchmark's properties)."""
    rng = random.Random(5)
    rows = []
    for i in range(2000):
        row = {"rec_id": f"rec-{i}", "surname": f"family{i % 400}", "given_name": f"given{i % 97}"}
        if rng.random() < 0.09:
            row["surname"] = ""
        year = rng.choice([rng.randrange(1780, 1900), rng.randrange(1930, 2010)])
        row["date_of_birth"] = "" if rng.random() < 0.22 else f"{year}{rng.randrange(1, 14):02d}{rng.randrange(1, 32):02d}"
        row["postcode"] = rng.choice(
            [f"{rng.randrange(1000, 99999):05d}", f"{rng.randrange(1000, 9999)}", "SW1A 1AA", "75008 Paris"]
        )
        row["place_of_birth"] = rng.choice(["", "london", "kyiv", "aleppo"])
        rows.append(row)
    home = _home(tmp_path)
    _deliver(home, rows)
    outcome = _ingest(home)
    assert (outcome.records_accepted, outcome.records_rejected) == (2000, 0)
    receipt = json.loads((home.outbox("caritas", "receipts") / "export.csv.receipt.json").read_text(encoding="utf-8"))
    assert receipt["status"] == "done_with_notes" and receipt["rejected"] == 0
    fields = {note["field"] for note in receipt["notes"]}
    assert {"postcode", "birth_date"} <= fields
    assert not [note for note in receipt["notes"] if any(str(value) in note["reason"] for value in ("SW1A", "Paris"))]


def test_a_summarys_notes_go_with_its_copies_and_nowhere_else() -> None:
    """Notes ride along with the summary (and a copy of it: the record-id guard and the identifier
    policy copy summaries), but are no part of its data: not dumped, not in its schema, not
    compared."""
    summary = CaseSummary(
        identity=Identity(name=PersonName(family_name="Test")), case=CaseData(source="caritas", record_id="C-1")
    )
    assert summary.notes == ()
    note = Note("export.csv", 2, "postcode", "not a German five-digit postcode; left out")
    noted = summary.model_copy().with_notes([note])
    assert noted.notes == (note,) and summary.notes == ()
    assert noted.model_copy(update={"case": noted.case.model_copy(update={"record_id": "C-2"})}).notes == (note,)
    assert noted == summary and noted.model_dump() == summary.model_dump()
    assert set(CaseSummary.model_json_schema()["properties"]) == {"identity", "case"}
    assert "notes" not in noted.model_dump_json()
