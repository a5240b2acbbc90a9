"""Set operations on 64-bit integer arrays (ids, tokens, pair codes) where numpy's own are slow.

numpy 2 answers ``np.unique(values)`` without counts by hashing: 0.70 s for a million random
int64, where sorting and comparing neighbours takes 0.06 s. ``np.isin(values, few)`` with a
short list of tokens that are not small integers compares every value with each of them in
turn: 3.2–3.9 s for the million records' 12 million given-name tokens against 300 tokens, where
a table of the members' low bits, and a binary search for the few values it lets through, take
0.09–0.11 s (benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D array, sorted (``np.unique(values)``).

    The stable sort merges runs already in order (a piece's pair codes, ids read in order) and
    is as fast as the default one on random values."""
    values = np.sort(values, kind="stable")
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def is_member(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Per element of ``values`` (any shape): is it one of ``members``? (``np.isin(values, members)``.)

    A value whose low 16 bits no member has is not one (a table lookup); the few others are looked
    up by binary search in the sorted members."""
    found = np.zeros(values.shape, dtype=bool)
    if len(members) == 0 or values.size == 0:
        return found
    ordered = sorted_unique(members)
    low_bits = np.zeros(1 << 16, dtype=bool)
    low_bits[ordered & 0xFFFF] = True
    flat = values.reshape(-1)
    maybe = np.flatnonzero(low_bits[flat & 0xFFFF])
    at = np.minimum(np.searchsorted(ordered, flat[maybe]), len(ordered) - 1)
    found.reshape(-1)[maybe] = ordered[at] == flat[maybe]
    return found
