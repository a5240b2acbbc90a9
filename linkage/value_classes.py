"""Levels of fields whose values repeat across a population, looked up by class of value.

A city holds a few thousand birth places and a few hundred postcodes, but a million records: a
first link compares the birth places' Bloom filters and the postcodes' one-typo neighbours (nine
tokens against nine) of a hundred million candidate pairs, which is the same few million
comparisons of distinct values made over and over. Here every record gets the number of its
value's *class*, the level of every pair of classes is computed once, by the very function that
compares row pairs, and a batch's levels are one lookup per pair.

Exact by construction: a class is the rows holding one token whose other columns of the field
are identical too (checked; where they are not, as after an encoding change, there is no table
and the pairs are compared one by one), and a pair of classes is compared on one row of each.
The table is made only where it is small beside what it saves, once per array set, and kept
while that set lives: for an index of at least ``MIN_ROWS`` records, with at most
``CLASSES_PER_ROOT_ROW`` × √records classes (a table of at most 16 cells per record, where a
first link compares 25 to 115 candidate pairs per record at 100,000 to a million records) and
never more than ``MAX_CLASSES``.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.columnar import EncodingArrays

MAX_CLASSES = 4096  # a table of at most 16.8 million levels (16 MB)
CLASSES_PER_ROOT_ROW = 4
MIN_ROWS = 20_000  # below, the tables would cost about what they save
_CHECK_ROWS = 65_536  # rows checked at a time (a Bloom column gathered whole would double its memory)
_TABLE_PAIRS = 1 << 18  # class pairs compared at a time (two Bloom filters each: 64 MB at most)

PairLevel = Callable[[np.ndarray, np.ndarray], np.ndarray]  # rows a, rows b -> a level per pair


@dataclass(frozen=True)
class ClassTable:
    """Each row's class, and the level of each pair of classes."""

    of_row: np.ndarray  # int32 [n]
    table: np.ndarray  # [classes, classes]

    def levels(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The level of each row pair (a[k], b[k])."""
        levels: np.ndarray = self.table[self.of_row[a], self.of_row[b]]
        return levels


def class_table(
    token: np.ndarray, columns: Sequence[np.ndarray], pair_level: PairLevel, irrelevant: np.ndarray | None = None
) -> ClassTable | None:
    """The table of ``pair_level`` over the classes of ``token``, or None when there are too many
    or a class's rows differ in ``columns`` (``irrelevant``: rows whose other columns do not
    matter to their level, such as those without the value)."""
    values, first, of_row = np.unique(token, return_index=True, return_inverse=True)
    if len(values) > min(MAX_CLASSES, CLASSES_PER_ROOT_ROW * math.isqrt(len(token))) or not _alike_within_classes(
        columns, first, of_row, irrelevant
    ):
        return None
    count = len(values)
    table = np.empty((count, count), dtype=np.int8)  # levels are small numbers (MISSING is -1)
    step = max(1, _TABLE_PAIRS // count)  # classes whose row of the table is made at once
    for start in range(0, count, step):
        stop = min(start + step, count)
        table[start:stop] = pair_level(np.repeat(first[start:stop], count), np.tile(first, stop - start)).reshape(
            stop - start, count
        )
    return ClassTable(of_row.astype(np.int32), table)


def _alike_within_classes(
    columns: Sequence[np.ndarray], first: np.ndarray, of_row: np.ndarray, irrelevant: np.ndarray | None
) -> bool:
    """Whether every row equals its class's first row in every column (rows ``irrelevant`` aside)."""
    for start in range(0, len(of_row), _CHECK_ROWS):
        rows = slice(start, start + _CHECK_ROWS)
        representative = first[of_row[rows]]
        for column in columns:
            differ = column[rows] != column[representative]
            if differ.ndim > 1:
                differ = differ.reshape(len(differ), -1).any(axis=1)
            if irrelevant is not None:
                differ &= ~irrelevant[rows]
            if differ.any():
                return False
    return True


class TablesPerArrays:
    """The class tables of one kind, made once per array set (at its first large batch) and
    dropped with it; threads scoring at once wait for the one that makes it."""

    def __init__(self, make: Callable[[EncodingArrays], ClassTable | None]) -> None:
        self._make = make
        self._kept: dict[int, ClassTable | None] = {}
        self._lock = threading.Lock()

    def of(self, arrays: EncodingArrays) -> ClassTable | None:
        """The table of ``arrays``, or None where one would not pay or cannot be made."""
        if len(arrays) < MIN_ROWS:
            return None
        key = id(arrays)
        with self._lock:
            if key not in self._kept:
                self._kept[key] = self._make(arrays)
                weakref.finalize(arrays, self._kept.pop, key, None)  # before the id can be reused
            return self._kept[key]
