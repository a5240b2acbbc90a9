"""The integer set operations give numpy's answers (``linkage.int_sets``)."""

from __future__ import annotations

import numpy as np
import pytest

from kim_hub.linkage.int_sets import is_member, sorted_unique


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sorted_unique_is_numpys_unique(seed: int) -> None:
    rng = np.random.default_rng(seed)
    runs = np.concatenate([np.sort(rng.integers(-5, 1000, 50)) for _ in range(40)])  # pair codes come as runs
    for values in (runs, rng.integers(-(2**62), 2**62, 10_000), np.empty(0, np.int64), np.array([7])):
        assert np.array_equal(sorted_unique(values), np.unique(values))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_is_member_is_numpys_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(-(2**62), 2**62, (2_000, 3, 4))
    tokens[rng.random(tokens.shape) < 0.3] = -1  # no token
    taken = rng.choice(tokens.reshape(-1), 40)
    # strangers sharing the low 16 bits of a member must still be told apart
    lookalikes = (rng.integers(1, 2**40, 40) << 16) | (taken & 0xFFFF)
    tokens[0, 0, :] = lookalikes[:4]
    for members in (taken, np.concatenate([taken, [-1]]), lookalikes, np.array([2**62]), np.empty(0, np.int64)):
        assert np.array_equal(is_member(tokens, members), np.isin(tokens, members))
    assert is_member(tokens, taken).any() and not is_member(tokens[:1, :1, :], taken[:0]).any()
