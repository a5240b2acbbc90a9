"""The random record pairs u is learnt from (``linkage.estimate.random_pairs``) are exactly the
pairs ``random.Random.sample`` draws from the same seed: drawing them in bulk must not change a
single u, hence not a single link."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kim_hub.linkage.estimate import RANDOM_PAIRS, random_pairs


def _sampled(seed: int, n: int, count: int) -> np.ndarray:
    rng = random.Random(seed)
    return np.array([rng.sample(range(n), 2) for _ in range(count)], dtype=np.int64).reshape(count, 2)


@pytest.mark.parametrize("n", [2, 3, 21, 22, 23, 31, 32, 33, 100, 1023, 1024, 1025, 5482, 65_537, 2**20 + 3, 2**31 + 1])
@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_same_pairs_as_sample(n: int, seed: int) -> None:
    count = 3_000
    assert np.array_equal(random_pairs(random.Random(seed), n, count), _sampled(seed, n, count))


def test_the_same_pairs_as_sample_at_the_estimates_size() -> None:
    assert np.array_equal(random_pairs(random.Random(1), 5_482, RANDOM_PAIRS), _sampled(1, 5_482, RANDOM_PAIRS))


def test_pairs_whose_second_was_drawn_again() -> None:
    """Small populations from 22 on draw a second equal to its first often: each must be redrawn as sample does."""
    for seed in range(20):
        assert np.array_equal(random_pairs(random.Random(seed), 22, 500), _sampled(seed, 22, 500))


def test_no_pairs() -> None:
    assert random_pairs(random.Random(1), 5_482, 0).shape == (0, 2)
