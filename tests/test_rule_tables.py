"""A rule over yes/no facts, tabled once, gives for every pair what the rule gives for its facts."""

from __future__ import annotations

import numpy as np
import pytest

from kim_hub.linkage.rule_tables import MAX_FACTS, apply_rule, fact_pattern, rule_table


def _first_rule(facts: tuple[bool, ...]) -> int:
    """A first-match rule in the shape of the comparison levels, with a negative level like MISSING."""
    first, second, third, *rest = facts
    rules = ((first, -1), (second and third, 5), (second, 4), (any(rest), 2))
    return next((level for holds, level in rules if holds), 0)


@pytest.mark.parametrize("facts", [3, 8, 9, 11])
def test_every_pair_gets_the_level_the_rule_gives_its_facts(facts: int) -> None:
    rng = np.random.default_rng(facts)
    columns = [rng.random(5000) < share for share in rng.uniform(0.05, 0.95, facts)]
    levels = apply_rule(rule_table(_first_rule, facts), *columns)
    assert levels.dtype == np.int8
    expected = [_first_rule(tuple(bool(column[i]) for column in columns)) for i in range(5000)]
    assert levels.tolist() == expected


def test_a_pattern_holds_each_fact_in_its_own_bit() -> None:
    columns = [np.array([True, False, True]), np.array([False, False, True]), np.array([True, True, True])]
    assert fact_pattern(*columns).tolist() == [0b101, 0b100, 0b111]
    nine = [np.array([False])] * 8 + [np.array([True])]
    assert fact_pattern(*nine).tolist() == [256]


def test_a_table_is_bounded() -> None:
    with pytest.raises(ValueError, match="facts"):
        rule_table(_first_rule, MAX_FACTS + 1)
