"""Levels looked up by class of value (``linkage.value_classes``) must be the levels compared pair by pair.

The tables serve large indexes only; here they are forced onto a generated population of both
encoding schemes and the levels of every candidate pair and of random pairs compared both ways.
Where a class's rows differ (records of both schemes under one key) or the classes are too many,
there must be no table, and the pairs are compared one by one.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage import compare_arrays, value_classes
from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.columnar import EncodingArrays, concat, from_encodings
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys


def _population(scheme: int, seed: int = 7) -> EncodingArrays:
    keys = seeded_keys("classes", scheme)
    with tempfile.TemporaryDirectory() as scratch:
        return from_encodings(encode_population(Path(scratch), 500, seed, keys))


def _copy(arrays: EncodingArrays) -> EncodingArrays:
    """Another array set with the same rows (the tables are kept per set)."""
    return EncodingArrays(**{f.name: getattr(arrays, f.name).copy() for f in fields(arrays)})


def _pairs(arrays: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    a, b = candidate_pair_arrays(arrays)
    rng = np.random.default_rng(5)
    extra_a, extra_b = rng.integers(0, len(arrays), 20_000), rng.integers(0, len(arrays), 20_000)
    return np.concatenate([a, extra_a]), np.concatenate([b, extra_b])


def _force_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables for any array set with any number of classes up to ``MAX_CLASSES``, made a few
    classes at a time (as a table of thousands of classes is)."""
    monkeypatch.setattr(value_classes, "MIN_ROWS", 0)
    monkeypatch.setattr(value_classes, "CLASSES_PER_ROOT_ROW", 10**6)
    monkeypatch.setattr(value_classes, "_TABLE_PAIRS", 1000)


def _levels_both_ways(arrays: EncodingArrays, monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray, bool]:
    a, b = _pairs(arrays)
    monkeypatch.setattr(value_classes, "MIN_ROWS", 10**9)
    pair_by_pair = _copy(arrays)
    reference = compare_pairs(pair_by_pair, a, b).levels
    assert compare_arrays._PLACE_CLASSES.of(pair_by_pair) is None
    _force_tables(monkeypatch)
    looked_up = _copy(arrays)
    tables = (
        compare_arrays._PLACE_CLASSES.of(looked_up) is not None and compare_arrays._POSTCODE_CLASSES.of(looked_up) is not None
    )
    return reference, compare_pairs(looked_up, a, b).levels, tables


@pytest.mark.parametrize("scheme", [PLAIN_BLOOM, DIFFUSED_BLOOM], ids=["plain-bloom", "diffused-bloom"])
def test_looked_up_levels_are_the_compared_ones(scheme: int, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = _population(scheme)
    reference, looked_up, tables = _levels_both_ways(arrays, monkeypatch)
    assert tables
    assert np.array_equal(reference, looked_up)
    address, place = compare_arrays.FIELDS.index("address"), compare_arrays.FIELDS.index("birth_place")
    assert len(set(reference[:, place].tolist())) >= 3  # places missing, alike and different were compared
    assert len(set(reference[:, address].tolist())) >= 3


def test_no_place_table_where_one_place_token_has_two_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both schemes under one key: a place's token is the same, its Bloom filter is not."""
    both = concat([_population(PLAIN_BLOOM, seed=7), _population(DIFFUSED_BLOOM, seed=8)])
    both.ids = np.arange(len(both), dtype=np.int64)
    reference, looked_up, _tables = _levels_both_ways(both, monkeypatch)
    assert compare_arrays._PLACE_CLASSES.of(_copy(both)) is None
    assert np.array_equal(reference, looked_up)


def test_no_table_for_too_many_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = _population(DIFFUSED_BLOOM)
    places = len(np.unique(arrays.place_c))
    _force_tables(monkeypatch)
    monkeypatch.setattr(value_classes, "MAX_CLASSES", places - 1)
    assert compare_arrays._PLACE_CLASSES.of(arrays) is None
    monkeypatch.setattr(value_classes, "MAX_CLASSES", places)
    assert compare_arrays._PLACE_CLASSES.of(_copy(arrays)) is not None
    # and at most CLASSES_PER_ROOT_ROW × √rows of them: a small index has no table of many classes
    monkeypatch.setattr(value_classes, "CLASSES_PER_ROOT_ROW", places // math.isqrt(len(arrays)) - 1)
    assert compare_arrays._PLACE_CLASSES.of(_copy(arrays)) is None


def test_a_table_lives_as_long_as_its_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    _force_tables(monkeypatch)
    tables = compare_arrays._POSTCODE_CLASSES
    arrays = _population(PLAIN_BLOOM)
    made = tables.of(arrays)
    assert made is not None and tables.of(arrays) is made  # made once
    kept = len(tables._kept)
    del arrays
    assert len(tables._kept) == kept - 1
