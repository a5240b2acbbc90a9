"""Big deliveries are read as a stream: the ingest takes rows from the file as it encodes them.

What a stream must keep from the whole-file reading: the same rows, rejections and counts; and a
file that turns out part-way to be one the hub refuses whole (more rows than its source allows,
a sheet that stops being readable) lands nothing of what was already taken. Memory itself is
measured by ``benchmarks/intake_memory.py``, not here.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from kim_hub.connectors.provider_csv import ProviderCsvConnector
from kim_hub.hub_db.models import SourceRecord
from tests.support import Hub, sample

CANARY = "Zyxwvutsrq"
SAMPLE_FILES = sorted((sample("standard") / "inbox").glob("*/*.csv"))


@pytest.mark.parametrize("path", SAMPLE_FILES[:3], ids=lambda p: p.parent.name)
def test_a_stream_gives_what_reading_the_whole_file_gives(path: Path) -> None:
    whole = ProviderCsvConnector.read_file(path)
    streamed = ProviderCsvConnector.stream_file(path)
    assert streamed.stream is not None and not streamed.rows  # nothing read beyond the header yet
    assert list(streamed.all_rows()) == whole.rows
    assert (streamed.rejections, streamed.unknown_columns, streamed.rows_total) == (
        whole.rejections,
        whole.unknown_columns,
        whole.rows_total,
    )
    assert streamed.content_hash == whole.content_hash
    assert list(streamed.all_rows()) == []  # a stream is taken once


def test_a_ragged_last_row_and_a_syntax_error_are_found_on_the_way(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text('record_id,family_name,given_names\nA-1,Haddad,Samira\nA-2,Testova\n\nA-3,"Open\nQuote\n', encoding="utf-8")
    whole = ProviderCsvConnector.read_file(path)
    streamed = ProviderCsvConnector.stream_file(path)
    assert [r.fields["record_id"] for r in streamed.all_rows()] == ["A-1"]
    assert streamed.rejections == whole.rejections
    assert [r.row for r in streamed.rejections] == [3, 5]
    assert "unclosed quote" in streamed.rejections[1].reason


def _sheet(rows: int, broken_at: int | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["record_id", "family_name", "given_names", "postcode"])
    for number in range(1, rows + 1):
        sheet.append([f"X-{number}", "Haddad", "Samira", 51373 if number != broken_at else 99999])
    out = io.BytesIO()
    book.save(out)
    if broken_at is None:
        return out.getvalue()
    source, target = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(target, "w") as damaged:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":  # text where the cell says number
                content = re.sub(rb"<v>99999</v>", f"<v>{CANARY}</v>".encode(), content)
            damaged.writestr(item, content)
    return target.getvalue()


def _stored(hub: Hub) -> int:
    with hub.sessions() as session:
        return session.execute(select(func.count()).select_from(SourceRecord)).scalar_one()


def test_a_sheet_that_breaks_part_way_lands_nothing_of_it(hub: Hub) -> None:
    """The rows before the broken cell were already encoded and stored in the file's transaction:
    they are rolled back with it, and the file is refused whole with a receipt."""
    hub.drop("awo", "broken.xlsx", _sheet(6000, broken_at=5500))
    hub.drop("awo", "good.xlsx", _sheet(3))
    outcome = hub.ingest("awo")
    assert (outcome.files_rejected, outcome.files_ingested, outcome.files_failed) == (1, 1, 0)
    assert _stored(hub) == 3
    receipt = hub.receipt("awo", "broken.xlsx")
    assert receipt["status"] == "rejected" and "first sheet cannot be read" in receipt["rejections"][0]["reason"]
    assert CANARY not in str(receipt)
    assert (hub.path / "failed" / "awo" / "broken.xlsx").exists()


def test_a_stream_past_its_sources_row_limit_lands_nothing_of_it(hub: Hub) -> None:
    hub.config.sources["caritas"].options["max_rows"] = "5000"
    rows = [f"C-{n},Haddad,Samira,1988-03-14" for n in range(1, 6002)]
    hub.drop("caritas", "big.csv", ("record_id,family_name,given_names,birth_date\n" + "\n".join(rows) + "\n").encode())
    outcome = hub.ingest("caritas")
    assert (outcome.files_rejected, outcome.records_accepted) == (1, 0)
    assert _stored(hub) == 0
    assert "more than the limit of 5000 rows" in hub.receipt("caritas", "big.csv")["rejections"][0]["reason"]


def test_a_header_after_megabytes_of_blank_lines_is_found_in_one_pass(tmp_path: Path) -> None:
    """The header search walks blank lines one at a time (it once copied the rest of the text per
    line: 1.9 MB of blank lines took 35 s); a quoted line break in the header is kept whole."""
    path = tmp_path / "blank_first.csv"
    blank = ";;;\r\n" * 250_000  # 1 MB of empty rows a spreadsheet left above the table
    path.write_text(blank + 'record_id;family_name;"given\nnames"\r\nA-1;Haddad;Samira\r\n', encoding="utf-8")
    batch = ProviderCsvConnector.read_file(path)
    assert not batch.rejected_whole and not batch.unknown_columns  # "given names" across two lines
    assert [(row.row_number, row.fields["given_names"]) for row in batch.rows] == [(250_003, "Samira")]
