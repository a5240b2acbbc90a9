"""The bound that lets scoring skip hopeless pairs must never drop a pair that could count.

On a generated population (common and rare names, placeholder dates, AZR typos, siblings) the
bound from the cheap fields must be at least the exact Bayes factor of every candidate pair, and
``score_candidates`` must keep exactly the pairs whose full match weight reaches the threshold,
as if every pair had been compared in full.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.calibrate import agrees_exactly, calibrate_priors, count_agreeing_pairs
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare_arrays import cheap_levels, compare_pairs
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.link import score_candidates
from kim_hub.linkage.weight_bound import BayesFactorBound
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys


@pytest.fixture(scope="module")
def scored_population():
    keys = seeded_keys("bound")
    with tempfile.TemporaryDirectory() as scratch:
        arr = from_encodings(encode_population(Path(scratch), 1500, 5, keys))
    a, b = candidate_pair_arrays(arr)
    model = estimate(arr)
    model = calibrate_priors(model, arr, [(a, b)])
    model = model.applied_to(arr)
    return arr, model, a, b, compare_pairs(arr, a, b)


def test_the_bound_is_never_below_the_exact_bayes_factor(scored_population) -> None:
    arr, model, a, b, full = scored_population
    levels, date_token = cheap_levels(arr, a, b)
    bound = BayesFactorBound(arr, model).upper(a, b, levels, date_token)
    exact = model.score_levels(full, with_prior=False)
    assert (bound >= exact).all()
    floor = Thresholds().review - model.prior_log_odds
    assert (bound < floor).mean() > 0.15  # it does spare work: many pairs never reach the names (19 % here)


def test_scoring_keeps_exactly_the_pairs_that_reach_review(scored_population) -> None:
    arr, model, a, b, full = scored_population
    review = Thresholds().review
    weights = model.score_levels(full)
    scored = score_candidates(arr, model, [(a, b)], review)
    expected = set(zip(a[weights >= review].tolist(), b[weights >= review].tolist()))
    assert set(zip(scored.a.tolist(), scored.b.tolist())) == expected
    assert expected  # the population has matches to keep
    assert np.allclose(np.sort(scored.weights(model)), np.sort(weights[weights >= review]))


def test_agreeing_pairs_are_counted_from_same_day_pairs_alone(scored_population) -> None:
    arr, _model, a, b, full = scored_population
    assert count_agreeing_pairs(arr).total == count_agreeing_pairs(arr, [(a, b)]).total == int(agrees_exactly(full).sum()) > 0
