"""Small-cell suppression: primary <5, secondary so that no total gives a withheld cell away.

The attack tests publish a table and then try to recover the withheld cells from what was
published — by solving lines with one unknown, and by exhaustive search over every table that is
consistent with the published numbers. Both must fail.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kim_hub.reporting.suppression import (
    PRIMARY,
    SECONDARY,
    lines,
    primary_cells,
    publish_cell,
    recoverable_cells,
    secondary_cells,
    suppress_table,
    with_margins,
)

TABLE = [  # districts × sources
    [12, 3, 20],
    [7, 9, 15],
    [30, 11, 6],
]


def test_margins_are_row_column_and_grand_totals() -> None:
    assert with_margins([[1, 2], [3, 4]]) == [[1, 2, 3], [3, 4, 7], [4, 6, 10]]


def test_counts_one_to_four_are_published_as_below_five_and_zero_is_shown() -> None:
    table = suppress_table(["a", "b"], ["x", "y"], [[0, 3], [10, 20]])
    assert table.published[0][0] == "0"
    assert table.published[0][1] == "<5"
    assert table.rows[-1] == table.columns[-1] == "total"


def test_threshold_is_configurable() -> None:
    assert suppress_table(["a"], ["x", "y"], [[7, 30]], threshold=10).published[0][0] == "<10"
    assert suppress_table(["a"], ["x", "y"], [[7, 30]], threshold=3).published[0][0] == "7"


def test_small_totals_are_suppressed_too() -> None:
    table = suppress_table(["a", "b"], ["x", "y"], [[1, 0], [2, 0]])
    assert table.published[2][0] == "<5"  # the column total 3 is itself a small cell


def test_secondary_takes_the_next_smallest_cell_of_the_line() -> None:
    table = suppress_table(["r1", "r2", "r3"], ["s1", "s2", "s3"], TABLE)
    status = table.status
    assert status[0][1] == PRIMARY
    # row 0 has 3 withheld → the next smallest of the row (12) goes; column 1 → the smallest other (9)
    assert status[0][0] == SECONDARY
    assert status[1][1] == SECONDARY
    assert table.published[0][0] == "x"


def test_no_line_keeps_exactly_one_withheld_cell() -> None:
    table = suppress_table(["r1", "r2", "r3"], ["s1", "s2", "s3"], TABLE)
    hidden = {(i, j) for i, row in enumerate(table.status) for j, s in enumerate(row) if s != "shown"}
    for line in lines(len(table.values), len(table.values[0])):
        assert sum(cell in hidden for cell in line) != 1


def test_primary_suppression_alone_is_recoverable_from_the_totals() -> None:
    """The attacker works: without secondary suppression the small cell follows from its row total."""
    matrix = with_margins(TABLE)
    primary = primary_cells(matrix)
    published = [
        [publish_cell(v, PRIMARY if (i, j) in primary else "shown") for j, v in enumerate(row)] for i, row in enumerate(matrix)
    ]
    assert recoverable_cells(published) == {(0, 1): 3}


def _feasible_values(published: list[list[str]], threshold: int, limit: int) -> dict[tuple[int, int], set[int]]:
    """Every value each withheld cell can take in some table consistent with what was published
    (primary cells 1..threshold-1, others 0..limit), by exhaustive search."""
    unknown = [(i, j) for i, row in enumerate(published) for j, text in enumerate(row) if not text.isdigit()]
    ranges = [range(1, threshold) if published[i][j].startswith("<") else range(0, limit + 1) for i, j in unknown]
    n_rows, n_cols = len(published), len(published[0])
    feasible: dict[tuple[int, int], set[int]] = {cell: set() for cell in unknown}
    for guess in itertools.product(*ranges):
        values = {(i, j): int(t) for i, row in enumerate(published) for j, t in enumerate(row) if t.isdigit()}
        values.update(zip(unknown, guess))
        ok = all(sum(values[(i, j)] for j in range(n_cols - 1)) == values[(i, n_cols - 1)] for i in range(n_rows))
        ok = ok and all(sum(values[(i, j)] for i in range(n_rows - 1)) == values[(n_rows - 1, j)] for j in range(n_cols))
        if ok:
            for cell, value in zip(unknown, guess):
                feasible[cell].add(value)
    return feasible


@pytest.mark.parametrize(
    "cells",
    [
        [[12, 3, 20], [7, 9, 15], [30, 11, 6]],
        [[2, 8], [9, 6]],
        [[1, 0, 7], [0, 6, 8]],
        [[3], [9], [7]],
    ],
)
def test_an_attacker_cannot_recover_a_suppressed_cell_from_the_published_totals(cells: list[list[int]]) -> None:
    table = suppress_table([f"r{i}" for i in range(len(cells))], [f"c{j}" for j in range(len(cells[0]))], cells)
    published = table.published
    assert recoverable_cells(published) == {}
    limit = max(max(row) for row in cells) + 5
    unknown = sum(not t.isdigit() for row in published for t in row)
    if unknown <= 6:  # exhaustive search stays small
        feasible = _feasible_values(published, table.threshold, limit)
        for (i, j), values in feasible.items():
            if table.status[i][j] == PRIMARY:
                assert table.values[i][j] in values
                assert len(values) > 1, f"cell {(i, j)} is determined by the published numbers"


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda width: st.lists(st.lists(st.integers(0, 40), min_size=width, max_size=width), min_size=1, max_size=5)
    )
)
def test_suppressed_tables_never_leave_a_line_with_one_withheld_cell(cells: list[list[int]]) -> None:
    table = suppress_table([str(i) for i in range(len(cells))], [str(j) for j in range(len(cells[0]))], cells)
    published = table.published
    assert recoverable_cells(published) == {}
    for i, row in enumerate(table.values):
        for j, value in enumerate(row):
            if 0 < value < 5:
                assert table.status[i][j] == PRIMARY


def test_secondary_cells_is_a_fixpoint() -> None:
    matrix = with_margins(TABLE)
    first = secondary_cells(matrix, primary_cells(matrix))
    again = secondary_cells(matrix, primary_cells(matrix) | first)
    assert again == set()


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        suppress_table(["a"], ["x"], [[-1]])
    with pytest.raises(ValueError):
        suppress_table(["a"], ["x", "y"], [[1]])
