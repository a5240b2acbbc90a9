"""One prior for pairs from one body, another for pairs from two bodies.

A body seldom keeps two records of one person; a person served by two bodies has a record in
each. The prior of each kind of pair is calibrated from that kind's own exactly agreeing pairs,
and every path that weighs a pair (batch scoring with its bound, the clustering's one-pair
weights) must add the same shift, or pairs are lost or weighed twice.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.calibrate import body_prior_shifts, calibrate_priors, count_agreeing_pairs
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.columnar import NONE, from_encodings
from kim_hub.linkage.compare import compare
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.default_model import default_model
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.link import LazyEncodings, score_candidates
from kim_hub.linkage.model import MatchModel
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys


def _log_odds(p: float) -> float:
    return math.log2(p / (1 - p))


def test_each_kind_of_pair_gets_the_prior_its_agreeing_pairs_give() -> None:
    plain = dataclasses.replace(default_model(), record_count=105)
    bodies = np.array([0] * 60 + [1] * 40 + [NONE] * 5, dtype=np.int16)
    same, other = body_prior_shifts(plain, bodies, same_body=3, other_bodies=30)
    model = dataclasses.replace(plain, same_body_shift=same, other_body_shift=other)
    top = [model.m[name][-1] for name in ("family_name", "given_names", "birth_date")]
    recall = top[0] * top[1] * top[2]
    pairs_same, pairs_other = 60 * 59 / 2 + 40 * 39 / 2, 60 * 40
    assert model.prior_log_odds + model.same_body_shift == pytest.approx(_log_odds(3 / recall / pairs_same))
    assert model.prior_log_odds + model.other_body_shift == pytest.approx(_log_odds(30 / recall / pairs_other))
    assert model.same_body_shift < 0 < model.other_body_shift
    again = MatchModel.from_dict(model.to_dict())
    assert (again.same_body_shift, again.other_body_shift) == (model.same_body_shift, model.other_body_shift)
    assert again.applied_to(from_encodings({})).other_body_shift == model.other_body_shift
    shifts = model.prior_shifts(np.array([0, 0, 1, NONE]), np.array([0, 1, 0, 0]))
    assert shifts.tolist() == [model.same_body_shift, model.other_body_shift, model.other_body_shift, 0.0]


def test_without_bodies_or_agreeing_pairs_the_overall_prior_stays() -> None:
    model = default_model()
    assert body_prior_shifts(model, np.full(50, NONE, dtype=np.int16), same_body=4, other_bodies=9) == (0.0, 0.0)
    assert body_prior_shifts(model, np.array([0, 0, 1, 1], dtype=np.int16), same_body=0, other_bodies=0) == (0.0, 0.0)
    assert (
        MatchModel.from_dict({k: v for k, v in model.to_dict().items() if "shift" not in k}).same_body_shift == 0.0
    )  # older versions


@pytest.fixture(scope="module")
def bodied_population():
    keys = seeded_keys("bodies")
    with tempfile.TemporaryDirectory() as scratch:
        arr = from_encodings(encode_population(Path(scratch), 1200, 11, keys))
    arr.body = np.random.default_rng(4).integers(0, 4, len(arr)).astype(np.int16)
    model = calibrate_priors(estimate(arr), arr)
    model = dataclasses.replace(
        model.applied_to(arr), same_body_shift=-3.5, other_body_shift=4.0
    )  # larger than measured: stresses the bound
    a, b = candidate_pair_arrays(arr)
    return arr, model, a, b


def test_scoring_keeps_exactly_the_pairs_whose_shifted_weight_reaches_review(bodied_population) -> None:
    arr, model, a, b = bodied_population
    review = Thresholds().review
    shifted = model.score_levels(compare_pairs(arr, a, b)) + model.prior_shifts(arr.body[a], arr.body[b])
    scored = score_candidates(arr, model, [(a, b)], review)
    expected = set(zip(a[shifted >= review].tolist(), b[shifted >= review].tolist()))
    assert set(zip(scored.a.tolist(), scored.b.tolist())) == expected
    same_body = arr.body[scored.a] == arr.body[scored.b]
    assert same_body.any() and (~same_body).any()
    assert np.allclose(np.sort(scored.weights(model)), np.sort(shifted[shifted >= review]))
    unshifted = model.score_levels(compare_pairs(arr, a, b))
    assert ((shifted >= review) != (unshifted >= review)).any()  # the shift decides some pairs


def test_one_pair_weights_carry_the_same_shift(bodied_population) -> None:
    arr, model, a, b = bodied_population
    lazy = LazyEncodings(arr)
    batch = model.score_levels(compare_pairs(arr, a[:300], b[:300])) + model.prior_shifts(arr.body[a[:300]], arr.body[b[:300]])
    for row_a, row_b, weight in zip(a[:300].tolist(), b[:300].tolist(), batch.tolist()):
        one = model.score(compare(lazy[int(arr.ids[row_a])], lazy[int(arr.ids[row_b])]))
        assert one + model.prior_shift(int(arr.body[row_a]), int(arr.body[row_b])) == pytest.approx(weight)


def test_agreeing_pairs_are_counted_by_kind(bodied_population) -> None:
    arr, _model, a, b = bodied_population
    levels = compare_pairs(arr, a, b).levels
    exact = (levels[:, 0] == 4) & (levels[:, 1] == 4) & (levels[:, 2] == 6)
    same = exact & (arr.body[a] == arr.body[b])
    counted = count_agreeing_pairs(arr)
    assert (counted.same_body, counted.other_bodies) == (int(same.sum()), int((exact & ~same).sum()))
    assert counted.same_body > 0 and counted.other_bodies > 0
