"""The bound that lets scoring skip hopeless pairs must never drop a pair that could count.

On a generated population (common and rare names, placeholder dates, AZR typos, siblings) the
bound from the cheap fields must be at least the exact Bayes factor of every candidate pair, and
``score_candidates`` must keep exactly the pairs whose full match weight reaches the threshold,
as if every pair had been compared in full.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage.blocking_arrays import candidate_pair_arrays
from kim_hub.linkage.calibrate import agrees_exactly, calibrate_priors, count_agreeing_pairs
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare_arrays import cheap_levels, compare_pairs
from kim_hub.linkage.default_model import default_model
from kim_hub.linkage.encode import encode_identity
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.link import score_candidates
from kim_hub.linkage.weight_bound import BayesFactorBound
from kim_hub.mappings.case_summary import BirthDate, Identity, PersonName
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


def _identity(family: str, given: str, *, variants: tuple[tuple[str, str], ...] = (), year: int = 1990) -> Identity:
    return Identity(
        name=PersonName(family_name=family, given_names=given),
        variant_names=tuple(PersonName(family_name=f, given_names=g) for f, g in variants),
        birth_date=BirthDate(year=year, month=3, day=14, precision="day"),
        sex="F",
    )


# names that meet in every way a name comparison knows: the same, one given name of two, swapped
# at intake, a recorded variant, a transliteration, a joined spelling, a close typo, nothing alike
_NAMES = [
    _identity("Ahmadi", "Karim"),
    _identity("Ahmadi", "Karim Ali"),
    _identity("Karim", "Ahmadi"),
    _identity("Ahmadi", "Leyla"),
    _identity("Achmadi", "Kareem"),
    _identity("Nasser", "Omar", variants=(("Ahmadi", "Karim"),)),
    _identity("Abu Bakr", "Sara"),
    _identity("Abubakr", "Sarah"),
    _identity("Ahmady", "Karin"),
    _identity("Kowalczyk", "Oleksandr"),
    _identity("Ahmadi", ""),
    _identity("", "Karim"),
    _identity("Ali", "Karim Ahmadi"),
]


def test_the_name_signatures_never_lower_the_bound_below_any_orientation_or_spelling() -> None:
    """Every pair of records whose names meet in one of the ways a comparison grades: the bound
    with the name signatures is at least the exact Bayes factor, and below the bound that
    credits every name its top level wherever names are alike only in part."""
    keys = seeded_keys("bound-names")
    arr = from_encodings({i + 1: encode_identity(identity, keys) for i, identity in enumerate(_NAMES)})
    # as in a large index, where these names are rare: a shared token earns the top weights
    model = dataclasses.replace(default_model().applied_to(arr), record_count=1_000_000)
    a, b = (x.astype(np.int64) for x in np.triu_indices(len(arr), 1))
    levels, date_token = cheap_levels(arr, a, b)
    bound = BayesFactorBound(arr, model)
    tight = bound.upper(a, b, levels, date_token)
    exact = model.score_levels(compare_pairs(arr, a, b), with_prior=False)
    assert (tight >= exact).all()
    blind = BayesFactorBound(arr, model)
    blind.signatures = np.full_like(blind.signatures, ~np.uint64(0))  # every token may be shared
    loose = blind.upper(a, b, levels, date_token)
    assert (loose >= tight).all()
    assert (loose > tight + 1).sum() >= 10  # Ahmadi Karim against Ahmadi Leyla and the like
    # ``hopeful``, as scoring asks: exactly the pairs whose bound reaches their floor
    floors = tight + np.where(np.arange(len(a)) % 3 == 0, 0.5, -0.5)
    assert bound.hopeful(a, b, levels, date_token, floors).tolist() == np.flatnonzero(tight >= floors).tolist()
