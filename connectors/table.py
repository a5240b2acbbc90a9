"""A delivered table, CSV text or a spreadsheet's first sheet, read into header and rows.

Both the provider export (CSV or ``.xlsx``) and the job centre's export are tables; this module
holds what they share: records with the physical lines they occupy, the header resolved through a
column map, and the rows as a FileBatch. Bad content never raises: it becomes Rejections that name
lines, columns and positions, never a cell's value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, TextIO

from kim_hub.connectors.column_map import ColumnMap
from kim_hub.connectors.csv_dialect import separator_hint
from kim_hub.core.rows import FileBatch, RawRow, Rejection


class Record(NamedTuple):
    """One CSV record with the physical lines it occupies (a tuple: a big delivery makes one
    per row, and a frozen dataclass costs a microsecond more to make)."""

    first_line: int
    last_line: int
    cells: list[str]

    @property
    def blank(self) -> bool:
        return not "".join(self.cells).strip()  # every cell empty or white space


class CsvSyntaxError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def csv_records(text: str | TextIO, delimiter: str) -> Iterator[Record]:
    """RFC 4180 records with their line numbers (the csv module counts physical lines), from
    text in memory or from a text stream read as it goes (newline="": quoted line breaks kept)."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True)
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
            unknown.append(cell.strip() or f"(unnamed column {index + 1})")
            continue
        if canonical in seen:
            problems.append(
                Rejection(file, line, canonical, f"column appears twice (columns {seen[canonical] + 1} and {index + 1})")
            )
            continue
        seen[canonical] = index
        positions[index] = canonical
    problems.extend(
        Rejection(file, line, required, "required column is missing from the header")
        for required in column_map.required
        if required not in seen
    )
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


def table_rows(
    batch: FileBatch, records: Iterator[Record], column_map: ColumnMap, separator: str | None = None, sheet: bool = False
) -> Iterator[RawRow]:
    """The header now, the rows as they are taken: a table without a usable header is rejected
    whole at once (``batch.rejected_whole``), before anything is stored; the rejections of rows
    are added to ``batch`` as the returned iterator passes them.

    ``separator``: the delimiter if the file may open with Excel's ``sep=`` line. ``sheet``: the
    records are a spreadsheet's rows, whose width is the header's: a sheet pads short rows with
    empty cells, and a value in a column without a header cell is an unnamed unknown column.
    """
    file = batch.path.name
    try:
        header = _header(batch, records, column_map, separator, sheet)
    except CsvSyntaxError as error:
        _syntax_error(batch, error.line)
        header = None
    if header is None:
        if not batch.rejected_whole:
            batch.rejections.append(Rejection(file, None, None, "file has no header line"))
            batch.rejected_whole = True
        return iter(())
    return _rows(batch, records, header, sheet)


def _header(
    batch: FileBatch, records: Iterator[Record], column_map: ColumnMap, separator: str | None, sheet: bool
) -> _Header | None:
    """Take records up to and including the header (blank ones and a ``sep=`` line skipped)."""
    hint = separator
    for record in records:
        if record.blank:
            continue
        if hint is not None and separator_hint(hint.join(record.cells)) == hint:
            hint = None  # Excel's "sep=;" line: not the header, skipped once
            continue
        cells = _without_trailing_blanks(record.cells) if sheet else record.cells
        resolved = _resolve_header(cells, column_map, batch.path.name, record.first_line)
        if isinstance(resolved, list):
            batch.rejections.extend(resolved)
            batch.rejected_whole = True
            return None
        batch.unknown_columns.extend(resolved.unknown)
        return resolved
    return None


def _rows(batch: FileBatch, records: Iterator[Record], header: _Header, sheet: bool) -> Iterator[RawRow]:
    """The data rows after the header; one record of look-ahead tells the last record (whose
    raggedness may come from a quote left open to the end of the file)."""
    previous: Record | None = None
    try:
        for record in records:
            if previous is not None and not previous.blank:
                yield from _row(batch, previous, header, sheet, at_end=False)
            previous = record
    except CsvSyntaxError as error:
        if previous is not None and not previous.blank:
            yield from _row(batch, previous, header, sheet, at_end=False)
        _syntax_error(batch, error.line)
        return
    if previous is not None and not previous.blank:
        yield from _row(batch, previous, header, sheet, at_end=True)


def _row(batch: FileBatch, record: Record, header: _Header, sheet: bool, at_end: bool) -> Iterator[RawRow]:
    cells = _fitted_to_sheet(batch, record.cells, header.width) if sheet else record.cells
    if len(cells) != header.width:
        reason = _ragged_reason(record, header.width, at_end)
        batch.rejections.append(Rejection(batch.path.name, record.first_line, None, reason))
        return
    fields = {name: cells[index] for index, name in header.positions.items()}
    yield RawRow(file=batch.path.name, row_number=record.first_line, fields=fields)


def _without_trailing_blanks(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _fitted_to_sheet(batch: FileBatch, cells: list[str], width: int) -> list[str]:
    """A sheet row at the header's width: padded with empty cells, and a value beyond the last
    header cell left out as an unnamed unknown column (listed once on the receipt)."""
    for index in range(width, len(cells)):
        if cells[index]:
            name = f"(unnamed column {index + 1})"
            if name not in batch.unknown_columns:
                batch.unknown_columns.append(name)
    return (cells + [""] * width)[:width]


def _syntax_error(batch: FileBatch, line: int) -> None:
    reason = "CSV syntax error; this row and the rest of the file were not read"
    batch.rejections.append(Rejection(batch.path.name, line, None, reason))
