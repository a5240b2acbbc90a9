"""A model version stored before a comparison level was added keeps scoring pairs."""

from __future__ import annotations

import copy
import math

import pytest

from kim_hub.linkage.compare import FIELDS, LEVELS
from kim_hub.linkage.default_model import default_model
from kim_hub.linkage.model import ADDED_LEVELS, MatchModel


def stored_before_the_added_levels() -> dict:
    """The shipped model's parameters as a release without the added levels stored them."""
    stored = copy.deepcopy(default_model().to_dict())  # to_dict shares the model's own tables
    for table in ("m", "u", "u_random", "u_same_family"):
        for name, position in ADDED_LEVELS.items():
            if name in stored[table]:
                values = list(stored[table][name])
                del values[position]
                total = sum(values)
                stored[table][name] = [v / total for v in values]
    return stored


def test_an_older_model_version_gains_the_added_levels_with_no_weight_of_their_own() -> None:
    upgraded = MatchModel.from_dict(stored_before_the_added_levels())
    address = FIELDS.index("address")
    for name, position in ADDED_LEVELS.items():
        assert len(upgraded.m[name]) == len(upgraded.u[name]) == len(LEVELS[name])
        weights = upgraded.level_weights[False][FIELDS.index(name)]
        assert weights[position] == pytest.approx(0.0)
    # the levels it had keep their weights: m and u of each shrink by the same factor
    stored = stored_before_the_added_levels()
    expected = [math.log2(m / u) for m, u in zip(stored["m"]["address"], stored["u"]["address"])]
    kept = [w for level, w in enumerate(upgraded.level_weights[False][address][:-1]) if level != ADDED_LEVELS["address"]]
    assert kept == pytest.approx(expected)


def test_a_model_of_this_release_is_read_as_stored() -> None:
    current = default_model()
    assert MatchModel.from_dict(current.to_dict()).m == current.m
