"""The link step's bulk shortcuts must give the one-pair code's results to the last bit.

The clustering weighs the pairs of small components in bulk (``linkage.link``), the AZR conflict is
answered from the numbers first, and EM sums its posteriors by level from one gather
(``linkage.estimate``). A float that differs in its last bit can move a cluster average across a
threshold, so each is held to the straightforward code with ``==``, not approximately.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage import link
from kim_hub.linkage.blocking_arrays import candidate_pair_arrays, candidate_pair_pieces
from kim_hub.linkage.cluster import Thresholds
from kim_hub.linkage.columnar import NONE, EncodingArrays, from_encodings
from kim_hub.linkage.compare import FAMILY, FIELDS, LEVELS, Comparison, compare, identifiers_conflict
from kim_hub.linkage.compare_arrays import _members, _shares_token, compare_pairs
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.estimate import _expectation_maximisation, _initial_m, _normalised
from kim_hub.linkage.keyed import DIFFUSED_BLOOM
from kim_hub.linkage.model import MatchModel
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys


@pytest.fixture(scope="module")
def population() -> tuple[dict[int, RecordEncoding], EncodingArrays, MatchModel]:
    keys = seeded_keys("bulk", DIFFUSED_BLOOM)
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), 1500, 11, keys)
    arr = from_encodings(encodings)
    return encodings, arr, link.learn_model(arr).applied_to(arr)


def test_weights_in_bulk_equal_the_one_pair_score_to_the_bit(population) -> None:
    encodings, arr, model = population
    a, b = candidate_pair_arrays(arr)
    rng = np.random.default_rng(5)
    a, b = np.concatenate([a, rng.integers(0, len(arr), 3000)]), np.concatenate([b, rng.integers(0, len(arr), 3000)])
    bulk = model.score_levels(compare_pairs(arr, a, b), as_one_pair=True).tolist()
    ids = arr.ids.tolist()
    one_by_one = [model.score(compare(encodings[ids[x]], encodings[ids[y]])) for x, y in zip(a.tolist(), b.tolist())]
    assert bulk == one_by_one


def test_frequency_adjustments_in_bulk_take_the_one_pair_logarithm(population) -> None:
    """numpy's log2 differs from math.log2 in the last bit for about one value in two thousand:
    over 60,000 distinct value frequencies, the bulk terms must still be the one-pair terms."""
    _encodings, _arr, model = population
    counts = {token: token for token in range(1, 60_001)}
    wide = dataclasses.replace(model, family_freq=counts, record_count=216_979)
    tokens = np.arange(1, 60_001, dtype=np.int64)
    bulk = wide.frequency_adjustments(FAMILY, tokens, as_one_pair=True).tolist()
    agreeing = (0,) * len(FIELDS)  # the term does not look at the levels
    one_pair = [wide._frequency_adjusted(FAMILY, Comparison(agreeing, t, None, None, False), 0.0) for t in tokens.tolist()]
    assert bulk == one_pair


def test_clustering_with_small_components_weighed_in_bulk_is_the_same(population, monkeypatch) -> None:
    _encodings, arr, model = population
    thresholds = Thresholds()
    scored = link.score_candidates(arr, model, candidate_pair_pieces(arr), thresholds.review)
    compared = [0]
    one_pair = link.compare

    def counted(x: RecordEncoding, y: RecordEncoding):  # noqa: ANN202
        compared[0] += 1
        return one_pair(x, y)

    monkeypatch.setattr(link, "compare", counted)
    bulk = link.cluster_scored(arr, scored, model, thresholds)
    in_bulk_asked = compared[0]
    monkeypatch.setattr(link, "SMALL_COMPONENT", 0)  # every pair one at a time
    compared[0] = 0
    alone = link.cluster_scored(arr, scored, model, thresholds)
    assert compared[0] > in_bulk_asked  # the bulk path was taken, and spared pairs
    assert bulk.clusters == alone.clusters
    assert bulk.join_weight == alone.join_weight
    assert bulk.review_pairs == alone.review_pairs


def test_the_azr_conflict_by_record_id_is_the_pairs_conflict(population) -> None:
    _encodings, generated, _model = population
    arr = generated.take(np.arange(len(generated)))
    numbered = np.flatnonzero(arr.azr != NONE)
    arr.azr_auth[numbered[: len(numbered) // 2]] = True  # half of them as if from the register's keeper
    encodings = {int(arr.ids[row]): arr.record(row) for row in range(len(arr))}
    held = arr.ids[numbered[: len(numbered) // 2]].tolist()
    same_number = [(x, y) for x in held for y in held if x < y and encodings[x].azr == encodings[y].azr]
    others = arr.ids[np.flatnonzero(~arr.azr_auth)[:50]].tolist()
    asked = same_number + [(x, y) for x in held[:100] for y in held[:100] + others if x != y]
    conflict = link.authoritative_conflict(arr)
    found = [conflict(x, y) for x, y in asked]
    assert found == [identifiers_conflict(encodings[x], encodings[y]) for x, y in asked]
    assert same_number and any(found) and not all(found)


def _masked_em(gamma: np.ndarray, u: dict[str, list[float]], iterations: int) -> tuple[dict[str, list[float]], float]:
    """EM as written before the level columns (no labelled matches): the reference."""
    m = {name: _initial_m(name) for name in FIELDS}
    prior = 0.3

    def lookup(log_p: np.ndarray, levels: np.ndarray) -> np.ndarray:
        return np.where(levels >= 0, log_p[np.clip(levels, 0, None)], 0.0)

    log_u = np.zeros(len(gamma))
    for j, name in enumerate(FIELDS):
        log_u += lookup(np.log(u[name]), gamma[:, j])
    for _ in range(iterations):
        log_m = np.zeros(len(gamma))
        for j, name in enumerate(FIELDS):
            log_m += lookup(np.log(m[name]), gamma[:, j])
        posterior = 1 / (1 + np.exp(-np.clip(np.log(prior / (1 - prior)) + log_m - log_u, -50, 50)))
        prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
        for j, name in enumerate(FIELDS):
            column = gamma[:, j]
            m[name] = _normalised([1.0 + 0.0 + float(posterior[column == level].sum()) for level in range(len(LEVELS[name]))])
    return m, prior


def test_em_sums_by_level_as_the_masked_sums_do(population) -> None:
    _encodings, arr, _model = population
    a, b = candidate_pair_arrays(arr)
    gamma = compare_pairs(arr, a, b).levels
    assert (gamma < 0).any()  # missing levels are among them
    u = {name: _normalised([1.0 + level for level in range(len(LEVELS[name]))]) for name in FIELDS}
    assert _expectation_maximisation(gamma, u) == _masked_em(gamma, u, 40)


@pytest.mark.parametrize("width", [1, 4, 9])
def test_token_lists_compared_column_by_column_as_by_broadcast(width: int) -> None:
    """``_members`` compares a later column only where it holds a token, ``_shares_token`` whole
    contiguous columns: both as the plain broadcast says, padding (NONE) matching nothing."""
    rng = np.random.default_rng(width)
    x, y = rng.integers(0, 12, (5000, width)), rng.integers(0, 12, (5000, width))
    x[rng.random(x.shape) < 0.6], y[rng.random(y.shape) < 0.6] = NONE, NONE
    x[:7], y[:7] = NONE, NONE  # pairs of padding only
    broadcast = (x[:, :, None] == y[:, None, :]).any(axis=2) & (x != NONE)
    assert np.array_equal(_members(x, y), broadcast)
    assert np.array_equal(_shares_token(x, y), broadcast.any(axis=1))
