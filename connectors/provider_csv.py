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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, TextIO

from kim_hub.connectors.base import EXAMPLE_PERSONS, ExamplePerson, FileConnector, file_hash, line_breaks
from kim_hub.connectors.column_map import ColumnMap, provider_csv_column_map
from kim_hub.connectors.csv_dialect import (
    UnsupportedEncodingError,
    detect_delimiter,
    file_encoding,
    first_content_line_in,
    separator_hint,
)
from kim_hub.connectors.provider_xlsx import read_provider_xlsx, stream_provider_xlsx
from kim_hub.connectors.table import Record, csv_records, table_rows
from kim_hub.core.rows import FileBatch, Rejection


def read_provider_csv(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Read one delivered provider CSV file whole; never raises for bad content, only for
    unreadable files (``stream_provider_csv``, with every row read)."""
    return stream_provider_csv(path, column_map).read_whole()


def stream_provider_csv(path: Path, column_map: ColumnMap | None = None) -> FileBatch:
    """Open one delivered provider CSV file: its header now, its rows as they are taken.

    The rows are keyed by canonical column name (unknown columns dropped and listed); a row or
    file problem becomes a Rejection on the batch. ``content_hash`` is the SHA-256 of the bytes
    as delivered, so a re-delivered file is recognised whatever its name. The file is read in
    passes (hash, encoding, header, rows), none holding more than a chunk or a row.
    """
    column_map = column_map or provider_csv_column_map()
    batch = FileBatch(path=path, content_hash=file_hash(path))
    try:
        encoding = file_encoding(path)
    except UnsupportedEncodingError as exc:
        batch.rejections.append(Rejection(path.name, None, None, exc.reason))
        batch.rejected_whole = True
        return batch
    with _text(path, encoding) as lines:
        first_line = first_content_line_in(lines)
    hint = separator_hint(first_line)
    delimiter = hint or detect_delimiter(first_line)
    batch.stream = table_rows(batch, _records(path, encoding, delimiter), column_map, delimiter if hint else None)
    return batch


def _text(path: Path, encoding: str) -> TextIO:
    """The file as text, line breaks as written (a quoted field may hold one)."""
    return path.open(encoding=encoding, newline="")


def _records(path: Path, encoding: str, delimiter: str) -> Iterator[Record]:
    """The file's CSV records, read as they are taken; the file is closed at the end."""
    with _text(path, encoding) as text:
        yield from csv_records(text, delimiter)


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
    def stream_file(cls, path: Path) -> FileBatch:
        """Open one delivered file with its rows to be read as they are taken (see ``FileBatch``)."""
        if Path(path).suffix.lower() == ".xlsx":
            return stream_provider_xlsx(Path(path))
        return stream_provider_csv(Path(path))

    @classmethod
    def estimated_rows(cls, path: Path) -> int | None:
        """A CSV's lines less its header; an Excel workbook's rows are not known before reading."""
        return None if Path(path).suffix.lower() == ".xlsx" else max(line_breaks(Path(path)) - 1, 0)

    @classmethod
    def example_delivery(cls, folder: Path, persons: Sequence[ExamplePerson] = EXAMPLE_PERSONS) -> Path:
        """The standard export with the required columns and the birth date, comma-separated."""
        path = folder / "provider-example.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("record_id", "family_name", "given_names", "birth_date"))
            writer.writerows((p.record_id, p.family_name, p.given_names, p.birth_date) for p in persons)
        return path
