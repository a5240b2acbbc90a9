"""The job-centre export: file checks (trailer, encoding, header) and the row mapping.

The fixture tests/fixtures/jobcenter/JC_KIM_20261124.csv is synthetic and hand-made (Windows-1252,
CRLF). Damaged variants are derived from it in the tests. Every rejection is checked for leaked
values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kim_hub.connectors.column_map import ColumnMap
from kim_hub.connectors.jobcenter import JobcenterConnector, jobcenter_column_map, read_jobcenter_export
from kim_hub.core.errors import BadInputError
from kim_hub.core.rows import FileBatch, Note, RawRow, Rejection
from kim_hub.mappings.case_summary import BirthDate, CaseSummary
from kim_hub.mappings.jobcenter import jobcenter_status_codes, map_jobcenter_row
from tests.support import sample
from tests.support.data import JOBCENTER_EXPORT

FIXTURE = JOBCENTER_EXPORT


def fixture_lines() -> list[str]:
    return FIXTURE.read_bytes().decode("cp1252").split("\r\n")[:-1]


def write(tmp_path: Path, lines: list[str], name: str = "JC_KIM_20261125.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def assert_clean_reasons(rejections: list[Rejection] | list[Note], lines: list[str]) -> None:
    values = {cell for line in lines[1:] if not line.startswith("#") for cell in line.split(";") if len(cell) >= 3}
    for rejection in rejections:
        for value in values:
            assert value not in rejection.reason, rejection.describe()


def assert_rejected_whole(batch: FileBatch, words: str) -> Rejection:
    assert batch.rejected_whole
    assert batch.rows == []
    assert len(batch.rejections) == 1
    assert words in batch.rejections[0].reason
    return batch.rejections[0]


def mapped(batch: FileBatch) -> list[CaseSummary]:
    results = [map_jobcenter_row("jobcenter", row) for row in batch.rows]
    assert all(isinstance(result, CaseSummary) for result in results), results
    return results  # type: ignore[return-value]


# --- the connector's contract --------------------------------------------------------------------


def test_connector_declares_its_formats() -> None:
    assert JobcenterConnector.name == "jobcenter-export"
    assert JobcenterConnector.row_format == "jobcenter-export"
    assert JobcenterConnector.file_suffixes == (".csv",)


def test_good_file_rows_are_keyed_by_canonical_names_and_numbered_by_line() -> None:
    batch = JobcenterConnector.read_file(FIXTURE)
    assert not batch.rejected_whole and batch.rejections == [] and batch.unknown_columns == []
    assert [row.row_number for row in batch.rows] == [2, 3, 4, 5]
    first = batch.rows[0].fields
    assert first["customer_no"] == "123A000001"
    assert first["household_no"] == "12345//0000001"
    assert first["street"] == "Musterstraße 1"  # Windows-1252 ß read correctly
    assert first["sex"] == "männlich"
    assert batch.rows[3].fields["family_name"] == "Öztestürk"
    assert len(batch.content_hash) == 64


def test_good_file_maps_every_field() -> None:
    first, second, third, fourth = mapped(JobcenterConnector.read_file(FIXTURE))
    assert first.case.record_id == first.identity.jobcenter_customer_no == "123A000001"
    assert first.identity.household_no == second.identity.household_no == "12345//0000001"
    assert first.identity.sex == "M" and second.identity.sex == "F" and third.identity.sex == "X"
    assert fourth.identity.sex == "U"
    assert first.identity.nationalities == second.identity.nationalities == ("SYR",)
    assert third.identity.nationalities == ("UKR",) and fourth.identity.nationalities == ("XXA",)
    assert first.identity.azr_number == "100000000001" and second.identity.azr_number is None
    assert first.identity.birth_date == BirthDate(year=1990, month=1, day=1, precision="day", placeholder=True)
    assert second.identity.birth_date == BirthDate(year=1992, precision="year", placeholder=True)
    assert third.identity.birth_date == BirthDate(year=1999, month=5, precision="month")
    assert [s.case.case_status for s in (first, second, third, fourth)] == ["active", "active", "paused", "closed"]
    assert {s.case.rechtskreis for s in (first, second, third, fourth)} == {"SGB II"}
    assert {s.case.residence_status for s in (first, second, third, fourth)} == {None}
    assert first.case.case_opened == dt.date(2024, 3, 15) and first.case.case_closed is None
    assert fourth.case.case_closed == dt.date(2026, 10, 31)
    assert first.case.updated_at == dt.date(2026, 11, 24)  # "24.11.2026 23:15": the date is kept


def test_status_code_list_covers_every_documented_status() -> None:
    codes = jobcenter_status_codes()
    assert set(codes.values()) <= {"active", "paused", "closed"}
    assert len(codes) == 4


def test_trailer_zero_with_header_only_is_an_empty_valid_export(tmp_path: Path) -> None:
    lines = fixture_lines()
    batch = read_jobcenter_export(write(tmp_path, [lines[0], "#Anzahl Datensätze;0"]))
    assert not batch.rejected_whole and batch.rows == [] and batch.rejections == []


def test_lf_line_endings_and_utf8_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "JC_KIM_20261125.csv"
    path.write_text("\n".join(fixture_lines()) + "\n", encoding="utf-8")
    batch = read_jobcenter_export(path)
    assert len(batch.rows) == 4 and batch.rows[3].fields["family_name"] == "Öztestürk"


# --- damaged files are rejected whole ------------------------------------------------------------


def test_truncated_file_without_trailer_is_rejected_whole(tmp_path: Path) -> None:
    lines = fixture_lines()
    truncated = lines[:3] + [lines[3][:40]]  # cut in the middle of a row, trailer lost
    rejection = assert_rejected_whole(read_jobcenter_export(write(tmp_path, truncated)), "no trailer")
    assert rejection.row is None
    assert_clean_reasons([rejection], lines)


def test_count_mismatch_is_rejected_whole(tmp_path: Path) -> None:
    lines = fixture_lines()
    batch = read_jobcenter_export(write(tmp_path, lines[:-1] + ["#Anzahl Datensätze;5"]))
    assert_rejected_whole(batch, "trailer announces 5 rows but the file holds 4")
    batch = read_jobcenter_export(write(tmp_path, [lines[0], lines[1], lines[-1]]))
    assert_rejected_whole(batch, "trailer announces 4 rows but the file holds 1")


@pytest.mark.parametrize("trailer", ["#Anzahl Datensätze;", "#Anzahl Datensätze;vier", "#Anzahl Datensätze;4;5"])
def test_trailer_without_a_count_is_rejected_whole(tmp_path: Path, trailer: str) -> None:
    lines = fixture_lines()
    rejection = assert_rejected_whole(read_jobcenter_export(write(tmp_path, lines[:-1] + [trailer])), "row count")
    assert rejection.row == 6


def test_rows_after_the_trailer_are_rejected_whole(tmp_path: Path) -> None:
    lines = fixture_lines()
    batch = read_jobcenter_export(write(tmp_path, lines[:3] + ["#Anzahl Datensätze;2"] + lines[3:]))
    assert_rejected_whole(batch, "before the end")


def test_missing_required_column_is_rejected_whole(tmp_path: Path) -> None:
    lines = fixture_lines()
    renamed = [lines[0].replace("Kundennummer", "Kunden-Nr")] + lines[1:]
    rejection = assert_rejected_whole(read_jobcenter_export(write(tmp_path, renamed)), "customer_no")
    assert rejection.row == 1


def test_renamed_column_is_a_one_line_change_in_the_column_map(tmp_path: Path) -> None:
    lines = fixture_lines()
    renamed = [lines[0].replace("Kundennummer", "Kunden-Nr")] + lines[1:]
    base = jobcenter_column_map()
    columns: dict[str, list[str]] = {name: [] for name in base.canonical_columns}
    for alias, canonical in base.aliases.items():
        columns[canonical].append(alias)
    columns["customer_no"].append("Kunden-Nr")
    batch = JobcenterConnector.read_file(write(tmp_path, renamed), ColumnMap.from_dict(columns, base.required))
    assert not batch.rejected_whole and batch.rows[0].fields["customer_no"] == "123A000001"


def test_unknown_column_is_listed_not_fatal(tmp_path: Path) -> None:
    lines = fixture_lines()
    extended = [lines[0] + ";Bemerkung"] + [line + ";x" for line in lines[1:-1]] + [lines[-1]]
    batch = read_jobcenter_export(write(tmp_path, extended))
    assert batch.unknown_columns == ["Bemerkung"] and len(batch.rows) == 4
    assert "Bemerkung" not in batch.rows[0].fields


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), ("\ufeff".encode("utf-16-le") + "Kundennummer;Nachname\r\n".encode("utf-16-le"), "UTF-16")],
)
def test_empty_or_utf16_file_is_rejected_whole(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "JC_KIM_20261125.csv"
    path.write_bytes(content)
    assert_rejected_whole(read_jobcenter_export(path), words)


def test_unreadable_file_raises_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        read_jobcenter_export(tmp_path / "missing.csv")


# --- row problems: the row is rejected, the file is not -------------------------------------------


def test_ragged_row_is_rejected_with_its_line(tmp_path: Path) -> None:
    lines = fixture_lines()
    lines[2] = lines[2] + ";extra"
    batch = read_jobcenter_export(write(tmp_path, lines))
    assert not batch.rejected_whole and len(batch.rows) == 3
    assert [(r.row, r.field) for r in batch.rejections] == [(3, None)]


def test_bad_date_and_unknown_codes_land_the_row_with_notes_naming_row_and_fields(tmp_path: Path) -> None:
    lines = fixture_lines()
    cells = lines[3].split(";")
    cells[4] = "31.02.1990"  # Geburtsdatum: no such day
    cells[6] = "marsianisch"  # Staatsangehörigkeit: not in the code list
    cells[12] = "Urlaub"  # Status: not a job-centre status
    cells[5] = "maennlich?"  # Geschlecht
    lines[3] = ";".join(cells)
    batch = read_jobcenter_export(write(tmp_path, lines))
    assert not batch.rejected_whole
    results = {row.row_number: map_jobcenter_row("jobcenter", row) for row in batch.rows}
    assert all(isinstance(result, CaseSummary) for result in results.values())
    flawed = results[4]
    assert isinstance(flawed, CaseSummary)
    assert {(n.row, n.field) for n in flawed.notes} == {(4, "birth_date"), (4, "nationality"), (4, "benefit_status"), (4, "sex")}
    birth_date = flawed.identity.birth_date
    assert birth_date is not None and (birth_date.year, birth_date.month, birth_date.day) == (1990, 2, None)
    assert flawed.identity.nationalities == () and flawed.identity.sex is None
    assert_clean_reasons(list(flawed.notes), lines)


def row(**changes: str) -> RawRow:
    fields = dict(JobcenterConnector.read_file(FIXTURE).rows[0].fields)
    fields.update(changes)
    return RawRow("JC_KIM_20261124.csv", 2, fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_no": "12A3456789"}, "customer_no"),
        ({"customer_no": ""}, "customer_no"),
        ({"family_name": "", "given_names": "", "birth_date": "", "street": "", "postcode": "", "azr_number": ""}, "family_name"),
    ],
)
def test_a_row_that_cannot_be_attributed_is_rejected_naming_the_field(changes: dict[str, str], field: str) -> None:
    result = map_jobcenter_row("jobcenter", row(**changes))
    assert isinstance(result, list) and [r.field for r in result] == [field]
    for value in changes.values():
        if len(value) >= 3:
            assert all(value not in r.reason for r in result)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"household_no": "12345/0000001"}, "household_no"),
        ({"azr_number": "12345"}, "azr_number"),
        ({"postcode": "5137X"}, "postcode"),
        ({"benefits_start": "00.03.2024"}, "benefits_start"),
        ({"benefits_end": "01.01.2020"}, "benefits_end"),
        ({"exported_at": "24.11.26 23:15"}, "exported_at"),
    ],
)
def test_a_flawed_field_is_left_out_with_a_note_naming_the_field(changes: dict[str, str], field: str) -> None:
    result = map_jobcenter_row("jobcenter", row(**changes))
    assert isinstance(result, CaseSummary) and [n.field for n in result.notes] == [field]
    for value in changes.values():
        if len(value) >= 3:
            assert all(value not in n.reason for n in result.notes)


def test_a_one_name_person_lands_with_the_name_they_have() -> None:
    result = map_jobcenter_row("jobcenter", row(family_name=""))
    assert isinstance(result, CaseSummary) and result.notes == ()
    assert result.identity.name.family_name == "" and result.identity.name.given_names


def test_lower_case_customer_number_is_normalised() -> None:
    result = map_jobcenter_row("jobcenter", row(customer_no=" 123a000001 "))
    assert isinstance(result, CaseSummary) and result.case.record_id == "123A000001"


def test_afghan_without_family_name_is_accepted() -> None:
    result = map_jobcenter_row("jobcenter", row(family_name=""))
    assert isinstance(result, CaseSummary) and result.identity.name.family_name == ""


# --- the native sample ---------------------------------------------------------------------------


def test_native_sample_exports_map_without_rejections() -> None:
    files = sorted((sample("native") / "inbox" / "jobcenter").glob("JC_KIM_*.csv"))
    assert files
    for path in files:
        batch = JobcenterConnector.read_file(path)
        assert not batch.rejected_whole, [r.describe() for r in batch.rejections]
        results = [map_jobcenter_row("jobcenter", row) for row in batch.rows]
        rejected = [r for result in results if isinstance(result, list) for r in result]
        assert len(batch.rows) > 1000
        assert len(rejected) <= len(batch.rows) // 100, [r.describe() for r in rejected[:10]]
        ids = [result.case.record_id for result in results if isinstance(result, CaseSummary)]
        assert len(ids) == len(set(ids))
