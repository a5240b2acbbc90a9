"""Excel exports (.xlsx) read like the CSV format: same columns, same rules, sheet row numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.mappings.case_summary import CaseSummary
from kim_hub.mappings.provider_csv import map_provider_row


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_rows_map_like_csv_rows(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "awo.xlsx",
        [
            ["Fall_ID", "Nachname", "Vornamen", "Geburtsdatum", "PLZ", "Notiz"],
            ["AWO-1", "Haddad", "Samira", dt.datetime(1988, 3, 14), 51373, "x"],
            ["AWO-2", "Testova", "Marta", "31.02.1975", 51375, None],
        ],
    )
    batch = ProviderCsvConnector.read_file(path)
    assert not batch.rejected_whole and batch.unknown_columns == ["Notiz"]
    assert [r.row_number for r in batch.rows] == [2, 3]
    first = map_provider_row("awo", batch.rows[0])
    assert isinstance(first, CaseSummary)
    assert first.identity.birth_date.day == 14 and first.identity.postcode == "51373"
    second = map_provider_row("awo", batch.rows[1])  # an impossible day: year and month kept, with a note
    assert isinstance(second, CaseSummary) and [(n.row, n.field) for n in second.notes] == [(3, "birth_date")]
    assert second.identity.birth_date is not None and second.identity.birth_date.precision == "month"


def test_formula_cells_are_never_evaluated_and_never_echoed(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "evil.xlsx",
        [["record_id", "family_name", "given_names"], ["R-1", '=HYPERLINK("http://evil","x")', "+cmd"]],
    )
    batch = ProviderCsvConnector.read_file(path)
    # no cached value exists for a formula written by a library: the cell reads as empty
    assert batch.rows[0].fields["family_name"] == ""


def test_a_broken_workbook_is_rejected_whole(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    batch = ProviderCsvConnector.read_file(path)
    assert batch.rejected_whole and "xlsx" in batch.rejections[0].reason
