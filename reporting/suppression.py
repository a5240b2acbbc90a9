"""Small-cell suppression for published count tables: pure functions, data in, data out.

A table is published with its margins: one total per row, per column and the grand total. The
extended matrix (interior + totals row + totals column) therefore has *lines* — each row and each
column including its total — whose cells add up (interior cells = the line's total).

1. **Primary suppression**: every cell (totals included) with 1 ≤ count < threshold is withheld
   and published as ``<threshold`` (default ``<5``). Zeros are shown: a zero reveals no person.
2. **Secondary suppression**: a line with exactly one withheld cell gives it away by subtraction
   (total minus the others). In every such line the smallest other cell (preferring a non-zero
   one) is withheld too, published as ``x``; repeated until no line has exactly one withheld cell.

After both steps no withheld cell can be computed from a single line; ``recoverable_cells``
shows the attacker's side (solve every line with one unknown, repeatedly) and the tests prove
it finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
SHOWN, PRIMARY, SECONDARY = "shown", "primary", "secondary"
SECONDARY_MARK = "x"

Cell = tuple[int, int]


def with_margins(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The interior matrix plus a totals column (last) and a totals row (last)."""
    width = len(cells[0]) if cells else 0
    extended = [[*map(int, row), sum(row)] for row in cells]
    extended.append([sum(row[j] for row in extended) for j in range(width + 1)])
    return extended


def lines(n_rows: int, n_cols: int) -> Iterator[list[Cell]]:
    """Every row and every column of an extended matrix, as lists of cell coordinates."""
    for i in range(n_rows):
        yield [(i, j) for j in range(n_cols)]
    for j in range(n_cols):
        yield [(i, j) for i in range(n_rows)]


def primary_cells(matrix: Sequence[Sequence[int]], threshold: int = DEFAULT_THRESHOLD) -> set[Cell]:
    """Cells counting 1 … threshold-1 people."""
    return {(i, j) for i, row in enumerate(matrix) for j, value in enumerate(row) if 0 < value < threshold}


def secondary_cells(matrix: Sequence[Sequence[int]], withheld: set[Cell]) -> set[Cell]:
    """The complementary cells needed so that no line has exactly one withheld cell."""
    n_rows, n_cols = len(matrix), len(matrix[0]) if matrix else 0
    hidden = set(withheld)
    changed = True
    while changed:
        changed = False
        for line in lines(n_rows, n_cols):
            if sum(cell in hidden for cell in line) != 1:
                continue
            candidates = [cell for cell in line if cell not in hidden]
            if not candidates:
                continue
            i, j = min(
                candidates,
                key=lambda c: (matrix[c[0]][c[1]] == 0, matrix[c[0]][c[1]], c[0] == n_rows - 1 or c[1] == n_cols - 1, c),
            )
            hidden.add((i, j))
            changed = True
    return hidden - set(withheld)


@dataclass(frozen=True)
class SuppressedTable:
    """A count table with margins and each cell's fate; ``published`` is what leaves the hub."""

    rows: tuple[str, ...]  # row labels, the totals row last
    columns: tuple[str, ...]  # column labels, the totals column last
    values: tuple[tuple[int, ...], ...]
    status: tuple[tuple[str, ...], ...]
    threshold: int

    @property
    def published(self) -> list[list[str]]:
        return [
            [publish_cell(v, s, self.threshold) for v, s in zip(row, states)] for row, states in zip(self.values, self.status)
        ]


def publish_cell(value: int, status: str, threshold: int = DEFAULT_THRESHOLD) -> str:
    if status == PRIMARY:
        return f"<{threshold}"
    if status == SECONDARY:
        return SECONDARY_MARK
    return str(value)


def suppress_table(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[int]],
    threshold: int = DEFAULT_THRESHOLD,
    total_label: str = "total",
) -> SuppressedTable:
    """Add margins, then primary and secondary suppression."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if len(cells) != len(rows) or any(len(row) != len(columns) for row in cells):
        raise ValueError("cells must have one row per row label and one value per column label")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("counts cannot be negative")
    matrix = with_margins(cells) if rows and columns else [[sum(map(sum, cells))]]
    primary = primary_cells(matrix, threshold)
    secondary = secondary_cells(matrix, primary)
    status = tuple(
        tuple(PRIMARY if (i, j) in primary else SECONDARY if (i, j) in secondary else SHOWN for j in range(len(row)))
        for i, row in enumerate(matrix)
    )
    return SuppressedTable(
        rows=(*rows, total_label) if rows and columns else (total_label,),
        columns=(*columns, total_label) if rows and columns else (total_label,),
        values=tuple(tuple(row) for row in matrix),
        status=status,
        threshold=threshold,
    )


def recoverable_cells(published: Sequence[Sequence[str]]) -> dict[Cell, int]:
    """The attacker: solve every line with exactly one unknown cell, again and again.

    ``published`` is an extended matrix as published (totals last). Returns the withheld cells
    whose exact value follows from the published numbers.
    """
    known: dict[Cell, int] = {}
    unknown: set[Cell] = set()
    for i, row in enumerate(published):
        for j, text in enumerate(row):
            if text.isdigit():
                known[(i, j)] = int(text)
            else:
                unknown.add((i, j))
    n_rows, n_cols = len(published), len(published[0]) if published else 0
    recovered: dict[Cell, int] = {}
    progress = True
    while progress:
        progress = False
        for line in lines(n_rows, n_cols):
            missing = [cell for cell in line if cell in unknown and cell not in recovered]
            if len(missing) != 1:
                continue
            values = {cell: recovered.get(cell, known.get(cell)) for cell in line}
            total_cell, interior = line[-1], line[:-1]
            (cell,) = missing
            if cell == total_cell:
                value = sum(values[c] or 0 for c in interior)
            else:
                value = (values[total_cell] or 0) - sum(values[c] or 0 for c in interior if c != cell)
            recovered[cell] = value
            progress = True
    return recovered


__all__ = [
    "DEFAULT_THRESHOLD",
    "SECONDARY_MARK",
    "SuppressedTable",
    "primary_cells",
    "publish_cell",
    "recoverable_cells",
    "secondary_cells",
    "suppress_table",
    "with_margins",
]
