"""Read the standard provider export (shared/formats/provider-csv.md) into a FileBatch.

This module owns the *file* part of the format only: encoding, delimiter (Excel's optional
``sep=;`` first line is honoured), quoting, header names, row shape and row numbers. What a field
means is the mapping's job (mappings/provider_csv.py).
Bad content never raises: it becomes Rejections on the batch, so one broken row cannot stop a
delivery and one broken file cannot stop a run. Only an unreadable file raises BadInputError.

Row numbers are physical line numbers, header = 1, as a person sees them when opening the file
in an editor or spreadsheet. A record whose quoted field contains a line break is numbered by
the line it starts on (a spreadsheet would show it as a single row).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector, read_delivery
from kim_hub.connectors.column_map import ColumnMap, provider_csv_column_map
from kim_hub.connectors.csv_dialect import (
    UnsupportedEncodingError,
    decode_bytes,
    detect_delimiter,
    first_content_line,
    separator_hint,
)
from kim_hub.connectors.provider_xlsx import read_provider_xlsx
from kim_hub.connectors.table import CsvSyntaxError, Record, csv_records, fill_batch
from kim_hub.core.rows import FileBatch, Rejection


def read_provider_csv(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Read one delivered provider CSV file; never raises for bad content, only for unreadable files.

    Returns every well-formed row keyed by canonical column name (unknown columns dropped and
    listed), plus a Rejection per row or file problem. ``content_hash`` is the SHA-256 of the
    bytes as delivered, so a re-delivered file is recognised whatever its name.
    """
    column_map = column_map or provider_csv_column_map()
    data, batch = read_delivery(path)
    file = path.name

    def reject_file(rejections: list[Rejection]) -> FileBatch:
        batch.rejections.extend(rejections)
        batch.rejected_whole = True
        return batch

    try:
        text = decode_bytes(data).text
    except UnsupportedEncodingError as exc:
        return reject_file([Rejection(file, None, None, exc.reason)])

    first_line = first_content_line(text)
    hint = separator_hint(first_line)
    delimiter = hint or detect_delimiter(first_line)
    records: list[Record] = []
    syntax_error_line: int | None = None
    try:
        for record in csv_records(text, delimiter):
            records.append(record)  # noqa: PERF402 - one by one: the rows before a syntax error are kept
    except CsvSyntaxError as exc:
        syntax_error_line = exc.line

    return fill_batch(batch, records, column_map, delimiter if hint else None, syntax_error_line)


class ProviderCsvConnector(FileConnector):
    """Connector for providers that drop the standard CSV export into ``inbox/<source>/``.

    The drop folder, the ledger and the receipts around it are the hub's, not the connector's.
    """

    name: ClassVar[str] = "provider-csv"
    row_format: ClassVar[str] = "provider-csv"
    file_suffixes: ClassVar[tuple[str, ...]] = (".csv", ".xlsx")

    @classmethod
    def read_file(cls, path: Path, column_map: ColumnMap | None = None) -> FileBatch:
        """Read one delivered file: CSV (``read_provider_csv``) or an Excel export (``read_provider_xlsx``)."""
        if Path(path).suffix.lower() == ".xlsx":
            return read_provider_xlsx(Path(path), column_map)
        return read_provider_csv(Path(path), column_map)

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """The standard export with the required columns and the birth date, comma-separated."""
        path = folder / "provider-example.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("record_id", "family_name", "given_names", "birth_date"))
            writer.writerows((p.record_id, p.family_name, p.given_names, p.birth_date) for p in persons)
        return path
