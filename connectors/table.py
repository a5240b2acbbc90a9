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

from kim_hub.connectors.column_map import ColumnMap
from kim_hub.connectors.csv_dialect import separator_hint
from kim_hub.core.rows import FileBatch, RawRow, Rejection


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
