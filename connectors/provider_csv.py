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
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from kim_hub.connectors.base import FileBatch, RawRow, Rejection, read_delivery
from kim_hub.connectors.column_map import ColumnMap, provider_csv_column_map
from kim_hub.connectors.csv_dialect import (
    UnsupportedEncoding,
    decode_bytes,
    detect_delimiter,
    first_content_line,
    separator_hint,
)


@dataclass(frozen=True)
class Record:
    """One CSV record with the physical lines it occupies."""

    first_line: int
    last_line: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return all(not cell.strip() for cell in self.cells)


class CsvSyntaxError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def csv_records(text: str, delimiter: str) -> Iterator[Record]:
    """RFC 4180 records with their line numbers (the csv module counts physical lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True)
    previous_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise CsvSyntaxError(previous_line + 1) from None
        yield Record(previous_line + 1, reader.line_num, cells)
        previous_line = reader.line_num


@dataclass(frozen=True)
class _Header:
    """Which column position holds which canonical field."""

    positions: dict[int, str]
    width: int
    unknown: list[str]


def _resolve_header(cells: list[str], column_map: ColumnMap, file: str, line: int) -> _Header | list[Rejection]:
    """Match header cells to canonical names; rejections if the file cannot be read safely.

    Reasons name canonical columns and positions only. A "header" that lacks the required
    columns is often a data row (the sender left the header out), so its cells are not echoed.
    """
    positions: dict[int, str] = {}
    seen: dict[str, int] = {}
    unknown: list[str] = []
    problems: list[Rejection] = []
    for index, cell in enumerate(cells):
        canonical = column_map.canonical(cell)
        if canonical is None:
            unknown.append(cell.strip() if cell.strip() else f"(unnamed column {index + 1})")
            continue
        if canonical in seen:
            problems.append(
                Rejection(file, line, canonical, f"column appears twice (columns {seen[canonical] + 1} and {index + 1})")
            )
            continue
        seen[canonical] = index
        positions[index] = canonical
    for required in column_map.required:
        if required not in seen:
            problems.append(Rejection(file, line, required, "required column is missing from the header"))
    if problems:
        return problems
    return _Header(positions, len(cells), unknown)


def _ragged_reason(record: Record, width: int, at_end: bool) -> str:
    reason = f"row has {len(record.cells)} fields but the header has {width}"
    if record.last_line > record.first_line and at_end:
        reason += "; a quoted field runs to the end of the file (unclosed quote?)"
    elif record.last_line > record.first_line:
        reason += f"; the row spans lines {record.first_line}-{record.last_line} (quoted line break?)"
    return reason


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
    except UnsupportedEncoding as exc:
        return reject_file([Rejection(file, None, None, exc.reason)])

    first_line = first_content_line(text)
    hint = separator_hint(first_line)
    delimiter = hint or detect_delimiter(first_line)
    records: list[Record] = []
    syntax_error_line: int | None = None
    try:
        for record in csv_records(text, delimiter):
            records.append(record)
    except CsvSyntaxError as exc:
        syntax_error_line = exc.line

    return fill_batch(batch, records, column_map, delimiter if hint else None, syntax_error_line)


def fill_batch(
    batch: FileBatch,
    records: list[Record],
    column_map: ColumnMap,
    separator: str | None = None,
    syntax_error_line: int | None = None,
) -> FileBatch:
    """Header and rows of a table, whatever it was read from (CSV text or a spreadsheet)."""
    file = batch.path.name
    header: _Header | None = None
    hint = separator
    for position, record in enumerate(records):
        if record.blank:
            continue
        if header is None and hint is not None and separator_hint(hint.join(record.cells)) == hint:
            hint = None  # Excel's "sep=;" line: not the header, skipped once
            continue
        if header is None:
            resolved = _resolve_header(record.cells, column_map, file, record.first_line)
            if isinstance(resolved, list):
                batch.rejections.extend(resolved)
                batch.rejected_whole = True
                return batch
            header = resolved
            batch.unknown_columns.extend(header.unknown)
            continue
        if len(record.cells) != header.width:
            at_end = position == len(records) - 1 and syntax_error_line is None
            reason = _ragged_reason(record, header.width, at_end)
            batch.rejections.append(Rejection(file, record.first_line, None, reason))
            continue
        fields = {name: record.cells[index] for index, name in header.positions.items()}
        batch.rows.append(RawRow(file=file, row_number=record.first_line, fields=fields))
    if syntax_error_line is not None:
        reason = "CSV syntax error; this row and the rest of the file were not read"
        batch.rejections.append(Rejection(file, syntax_error_line, None, reason))
    if header is None:
        batch.rejections.append(Rejection(file, None, None, "file has no header line"))
        batch.rejected_whole = True
    return batch


class ProviderCsvConnector:
    """Connector for providers that drop the standard CSV export into ``inbox/<source>/``.

    A file connector (connectors.base.FileConnector): the drop folder, the ledger and the
    receipts around it are the hub's, not the connector's.
    """

    name: ClassVar[str] = "provider-csv"
    row_format: ClassVar[str] = "provider-csv"
    file_suffixes: ClassVar[tuple[str, ...]] = (".csv", ".xlsx")

    @classmethod
    def read_file(cls, path: Path, column_map: ColumnMap | None = None) -> FileBatch:
        """Read one delivered file: CSV (``read_provider_csv``) or an Excel export (``read_provider_xlsx``)."""
        if Path(path).suffix.lower() == ".xlsx":
            from kim_hub.connectors.provider_xlsx import read_provider_xlsx

            return read_provider_xlsx(Path(path), column_map)
        return read_provider_csv(Path(path), column_map)
