"""A comparison rule over a few yes/no facts of a pair, answered for a batch by one table lookup.

The levels of the cheap fields are first-match rules ("same day and a placeholder: 5, else same
day: 6, …"). Written as ``np.select`` over a batch of pairs, every condition is an array and
the selection passes over the whole batch once per condition: for birth dates (nine conditions)
and addresses (eight) that was most of comparing the cheap fields of a million records' 115
million candidate pairs. Here the rule is plain Python over the facts of one pair, evaluated once
for every combination of its facts (``rule_table``); a batch packs each pair's facts into the
bits of one small integer (``fact_pattern``) and looks its level up: the same levels, from a
table of at most a few thousand entries.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MAX_FACTS = 12  # a table of 4,096 entries


def rule_table(rule: Callable[[tuple[bool, ...]], int], facts: int) -> np.ndarray:
    """int8 table whose entry ``p`` is ``rule((f0, f1, …))``, fact i being bit i of ``p``."""
    if not 0 < facts <= MAX_FACTS:
        raise ValueError(f"a rule table takes 1 to {MAX_FACTS} facts")
    return np.array([rule(tuple(bool(p >> i & 1) for i in range(facts))) for p in range(1 << facts)], dtype=np.int8)


def fact_pattern(*facts: np.ndarray) -> np.ndarray:
    """Per pair, the bit pattern of its facts (bool arrays of one length, in the rule's order)."""
    dtype = np.uint8 if len(facts) <= 8 else np.uint16
    pattern: np.ndarray = facts[0].astype(dtype)
    for bit, fact in enumerate(facts[1:], start=1):
        pattern |= np.left_shift(fact.astype(dtype), bit, dtype=dtype)
    return pattern


def apply_rule(table: np.ndarray, *facts: np.ndarray) -> np.ndarray:
    """The rule's level (int8) for every pair."""
    levels: np.ndarray = table[fact_pattern(*facts)]
    return levels
