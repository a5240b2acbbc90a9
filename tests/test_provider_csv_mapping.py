"""Mapping provider CSV rows onto the CaseSummary, and the shared sample inboxes end to end.

All personal values here are synthetic. Every rejection is checked for leaked clear values.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from kim_hub.connectors.provider_csv import read_provider_csv
from kim_hub.core.rows import FileBatch, Note, RawRow, Rejection
from kim_hub.mappings.case_summary import BirthDate, CaseSummary
from kim_hub.mappings.provider_csv import map_provider_batch, map_provider_row
from tests.support import sample

FULL_ROW = {
    "record_id": " CAR-0000001 ",
    "family_name": "Testfrau",
    "given_names": "Anna Maria",
    "birth_date": "01.01.1990",
    "sex": "w",
    "nationality": "syrisch",
    "birth_place": "Beispielstadt",
    "street": "Musterweg 1",
    "postcode": "51373",
    "azr_number": "1234 5678 9012",
    "jobcenter_customer_no": "123d456789",
    "rechtskreis": "sgb ii",
    "residence_status": "AE_25_2_GFK",
    "case_status": "active",
    "case_opened": "2025-06-15",
    "case_closed": "",
    "district": "Opladen",
    "goals": "sprache:active| arbeit:planned",
    "consent_recipients": "kim|jobcenter| KIM",
    "consent_valid_until": "31.12.2027",
    "consent_withdrawn": "",
    "updated_at": "2026-11-24",
}


def raw(fields: dict[str, str], row_number: int = 7) -> RawRow:
    return RawRow(file="test.csv", row_number=row_number, fields=fields)


def notes_of(fields: dict[str, str]) -> list[Note]:
    """The notes of a row that must land; none of them may carry a value of the row."""
    result = map_provider_row("caritas", raw(fields))
    assert isinstance(result, CaseSummary), f"row was expected to land: {result}"
    for note in result.notes:
        for value in fields.values():
            if len(value.strip()) >= 3:
                assert value.strip() not in note.reason, note.describe()
    return list(result.notes)


def rejections_of(fields: dict[str, str]) -> list[Rejection]:
    result = map_provider_row("caritas", raw(fields))
    assert isinstance(result, list), "row was expected to be rejected"
    for rejection in result:
        for value in fields.values():
            if len(value.strip()) >= 3:
                assert value.strip() not in rejection.reason, rejection.describe()
    return result


def test_full_row_maps_every_field() -> None:
    summary = map_provider_row("caritas", raw(FULL_ROW))
    assert isinstance(summary, CaseSummary)
    identity, case = summary.identity, summary.case
    assert identity.name.family_name == "Testfrau"
    assert identity.name.given_names == "Anna Maria"
    assert identity.birth_date == BirthDate(year=1990, month=1, day=1, precision="day", placeholder=True)
    assert identity.sex == "F"
    assert identity.nationalities == ("SYR",)
    assert identity.birth_place == "Beispielstadt"
    assert identity.street == "Musterweg 1"
    assert identity.postcode == "51373"
    assert identity.azr_number == "123456789012"
    assert identity.jobcenter_customer_no == "123D456789"
    assert case.source == "caritas"
    assert case.record_id == "CAR-0000001"
    assert case.rechtskreis == "SGB II"
    assert case.residence_status == "AE_25_2_GFK"
    assert case.case_status == "active"
    assert case.case_opened == dt.date(2025, 6, 15)
    assert case.case_closed is None
    assert case.district == "opladen"  # the code of the district list's "Opladen"
    assert case.goals == {"sprache": "active", "arbeit": "planned"}
    assert case.consent.recipients == ("kim", "jobcenter")
    assert case.consent.valid_until == dt.date(2027, 12, 31)
    assert case.consent.withdrawn_at is None
    assert case.updated_at == dt.date(2026, 11, 24)


def test_only_required_fields() -> None:
    summary = map_provider_row("awo", raw({"record_id": "AWO-1", "family_name": "Test", "given_names": "Anna"}))
    assert isinstance(summary, CaseSummary)
    assert summary.identity.birth_date is None
    assert summary.identity.nationalities == ()
    assert summary.case.goals == {}
    assert summary.case.consent.recipients == ()


def test_a_row_without_a_record_id_or_anything_to_link_on_is_rejected() -> None:
    assert [(r.field, r.reason) for r in rejections_of({"record_id": " ", "family_name": "Testfrau", "given_names": ""})] == [
        ("record_id", "required field is empty")
    ]
    result = rejections_of({"record_id": "C-1", "family_name": "", "given_names": "", "district": "Opladen"})
    assert [(r.field, r.reason) for r in result] == [
        ("family_name", "no name, birth date, address or identifier: nothing to link the row on")
    ]
    assert all(r.row == 7 and r.file == "test.csv" for r in result)


@pytest.mark.parametrize(
    "fields",
    [
        {"record_id": "C-1", "family_name": "", "given_names": "Noor"},  # one name is a name
        {"record_id": "C-1", "family_name": "Haddad", "given_names": ""},
        {"record_id": "C-1", "family_name": "", "given_names": "", "birth_date": "1990-05-05"},
    ],
)
def test_a_row_with_one_name_or_only_a_birth_date_lands(fields: dict[str, str]) -> None:
    assert notes_of(fields) == []


def test_every_flawed_field_of_a_row_is_noted_and_the_row_lands() -> None:
    fields = dict(
        FULL_ROW,
        birth_date="31.02.1990",
        sex="q",
        nationality="Atlantis",
        postcode="5137",
        azr_number="12345678901",
        rechtskreis="SGB IX",
        residence_status="AE_99",
        case_status="open",
        case_opened="2025-13-01",
        goals="sprache",
        consent_valid_until="morgen",
        updated_at="2026-11-31",
    )
    notes = notes_of(fields)
    assert {n.field: n.reason for n in notes} == {
        "updated_at": "day does not exist in that month; left out",
        "birth_date": "day does not exist in its month; year and month kept",
        "sex": "unknown sex code; left out",
        "nationality": "unknown nationality code; left out",
        "postcode": "four-digit postcode: leading zero restored",
        "azr_number": "AZR number must be 12 digits; left out",
        "rechtskreis": "unknown Rechtskreis code; left out",
        "residence_status": "unknown residence status code; left out",
        "case_status": "unknown case status code; left out",
        "case_opened": "month is not between 01 and 12; left out",
        "goals": "each goal must be written as field:status; left out",
        "consent_valid_until": "not a date in an accepted format (YYYY-MM-DD or DD.MM.YYYY); left out",
        "consent_recipients": "consent not used: one of its fields cannot be read; nothing is shared on it",
    }
    assert all(n.row == 7 for n in notes)
    summary = map_provider_row("caritas", raw(fields))
    assert isinstance(summary, CaseSummary)
    assert summary.identity.postcode == "05137" and summary.identity.azr_number is None
    assert summary.identity.birth_date == BirthDate(year=1990, month=2, precision="month")
    assert summary.case.consent.recipients == ()  # a consent not clear in every part shares nothing


@pytest.mark.parametrize("azr", ["12345678901", "1234567890123", "12345678901X", "1.23457E+11"])
def test_an_azr_number_without_twelve_digits_is_left_out(azr: str) -> None:
    assert [(n.field, n.reason) for n in notes_of(dict(FULL_ROW, azr_number=azr))] == [
        ("azr_number", "AZR number must be 12 digits; left out")
    ]


@pytest.mark.parametrize("value", ["SYR", "475", "Syrien", "syrische", "Syria", "syr"])
def test_nationality_forms_in_a_row(value: str) -> None:
    summary = map_provider_row("caritas", raw(dict(FULL_ROW, nationality=value)))
    assert isinstance(summary, CaseSummary)
    assert summary.identity.nationalities == ("SYR",)


def test_several_nationalities_and_no_information() -> None:
    summary = map_provider_row("caritas", raw(dict(FULL_ROW, nationality="SYR|türkisch|SYR")))
    assert isinstance(summary, CaseSummary) and summary.identity.nationalities == ("SYR", "TUR")
    summary = map_provider_row("caritas", raw(dict(FULL_ROW, nationality="999")))
    assert isinstance(summary, CaseSummary) and summary.identity.nationalities == ()


@pytest.mark.parametrize(("value", "expected"), [("m", "M"), ("W", "F"), ("d", "X"), ("U", "U"), ("", None)])
def test_sex_in_a_row(value: str, expected: str | None) -> None:
    summary = map_provider_row("caritas", raw(dict(FULL_ROW, sex=value)))
    assert isinstance(summary, CaseSummary) and summary.identity.sex == expected


def test_residence_status_must_exist_on_the_update_date() -> None:
    notes = notes_of(dict(FULL_ROW, residence_status="AE_16B", updated_at="2019-05-01", case_opened=""))
    assert [(n.field, n.reason) for n in notes] == [("residence_status", "unknown residence status code; left out")]


def test_record_id_longer_than_the_model_allows() -> None:
    result = rejections_of(dict(FULL_ROW, record_id="X" * 65))
    assert [(r.field, r.reason) for r in result] == [("record_id", "longer than 64 characters")]


def test_case_closed_before_opened_is_left_out() -> None:
    assert [n.field for n in notes_of(dict(FULL_ROW, case_opened="2026-02-01", case_closed="2026-01-31"))] == ["case_closed"]


@pytest.mark.parametrize("goals", ["sprache:", ":active", "sprache:active|sprache:planned"])
def test_malformed_goals_are_left_out(goals: str) -> None:
    assert [n.field for n in notes_of(dict(FULL_ROW, goals=goals))] == ["goals"]


def test_duplicate_record_ids_in_a_batch_are_rejected() -> None:
    rows = [
        raw({"record_id": "A-1", "family_name": "Test", "given_names": "Anna"}, 2),
        raw({"record_id": "A-2", "family_name": "Probe", "given_names": "Otto"}, 3),
        raw({"record_id": "A-1", "family_name": "Test", "given_names": "Anna"}, 4),
    ]
    batch = FileBatch(path=Path("test.csv"), content_hash="0" * 64, rows=rows)
    summaries, rejections = map_provider_batch("awo", batch)
    assert [s.case.record_id for s in summaries] == ["A-2"]
    assert [(r.row, r.field, r.reason) for r in rejections] == [
        (2, "record_id", "record id also used in row(s) 4"),
        (4, "record_id", "record id also used in row(s) 2"),
    ]


def test_mixed_file_good_rows_come_through_bad_rows_are_reported(tmp_path: Path) -> None:
    text = (
        "fall_id;nachname;vornamen;geburtsdatum;geschlecht;staatsangehoerigkeit;plz;azr_nummer;fallstatus;stand\r\n"
        "AWO-1;Testmann;Karl;00.00.1985;m;Afghanistan;51373;;active;24.11.2026\r\n"
        "AWO-2;Probefrau;Erna;31.02.1985;w;Irak;5137;;active;24.11.2026\r\n"  # two flawed fields
        "AWO-3;Kurz;Zeile\r\n"  # ragged
        "\r\n"
        'AWO-4;"Muster; Mustermann";Lena;1985;d;ukrainisch;51379;123456789012;intake;2026-11-23\r\n'
        "AWO-5;;Ohne;1990-05-05;F;SYR;51381;;closed;2026-11-20\r\n"  # one name
        ";;;;;;;;closed;2026-11-20\r\n"  # nobody
    )
    path = tmp_path / "awo_export.csv"
    path.write_bytes(text.encode("cp1252"))
    summaries, rejections = map_provider_batch("awo", read_provider_csv(path))
    assert [s.case.record_id for s in summaries] == ["AWO-1", "AWO-2", "AWO-4", "AWO-5"]
    assert summaries[0].identity.birth_date == BirthDate(year=1985, precision="year", placeholder=True)
    assert sorted((n.row, n.field) for n in summaries[1].notes) == [(3, "birth_date"), (3, "postcode")]
    assert summaries[2].identity.name.family_name == "Muster; Mustermann"
    assert summaries[2].identity.nationalities == ("UKR",)
    assert summaries[3].identity.name.given_names == "Ohne" and not summaries[3].notes
    assert sorted((r.row, r.field) for r in rejections) == [(4, None), (8, "family_name"), (8, "record_id")]
    for text in [r.reason for r in rejections] + [n.reason for s in summaries for n in s.notes]:
        for secret in ("Probefrau", "Erna", "31.02", "5137", "Kurz", "Zeile", "Ohne"):
            assert secret not in text


# --- the shared samples ------------------------------------------------------------------------------


# listed at collection: without ../shared the module fails to collect, with the message of tests.support.shared
SAMPLE_FILES = sorted((sample("standard") / "inbox").glob("*/*.csv"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.parent.name)
def test_sample_inbox_maps_with_few_rejections(path: Path) -> None:
    """Every sample file (read-only) must map almost entirely; a stricter parser shows up here."""
    batch = read_provider_csv(path)
    assert not batch.rejected_whole
    assert batch.unknown_columns == []
    summaries, rejections = map_provider_batch(path.parent.name, batch)
    records = len(batch.rows) + sum(1 for r in batch.rejections if r.row is not None)
    reasons = Counter((r.field, r.reason) for r in rejections)
    print(f"{path.parent.name}: {records} rows, {len(summaries)} mapped, {len(rejections)} rejected {dict(reasons)}")
    assert len(summaries) >= 0.99 * records, reasons
    assert all(s.case.source == path.parent.name for s in summaries)
