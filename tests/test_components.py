"""Clustering component by component must give exactly what clustering everything at once gives.

``linkage.components`` finds the connected components of the scored pairs in numpy, and
``cluster_scored`` clusters a batch of whole components at a time, leaving records without any
pair out of the Python tables. Checked against a plain union-find and, on a generated population
with coordinators' decisions and records of three bodies (whose pairs carry a prior shift),
against one ``cluster`` call over the whole index.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from kim_hub.linkage import link
from kim_hub.linkage.blocking_arrays import candidate_pair_pieces
from kim_hub.linkage.calibrate import calibrate_priors
from kim_hub.linkage.cluster import Thresholds, cluster
from kim_hub.linkage.columnar import from_encodings
from kim_hub.linkage.compare import compare
from kim_hub.linkage.components import component_batches, component_labels
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.link import LazyEncodings, authoritative_conflict, cluster_scored, score_candidates
from kim_hub.synth.default_model_training import encode_population
from tests.support import seeded_keys


def _union_find_labels(n: int, edges: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [root(x) for x in range(n)]


@pytest.mark.parametrize("seed", range(6))
def test_labels_are_the_smallest_row_of_each_component(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 400)
    edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, n))]
    chain = list(range(n))
    rng.shuffle(chain)
    edges += list(zip(chain[: n // 3], chain[1 : n // 3 + 1]))  # one long chain: many propagation passes
    edges = [(a, b) for a, b in edges if a != b]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    assert component_labels(n, a, b).tolist() == _union_find_labels(n, edges)


def test_batches_hold_whole_components_and_every_edge_once() -> None:
    rng = random.Random(3)
    n = 500
    edges = [(a, b) for a, b in ((rng.randrange(n), rng.randrange(n)) for _ in range(300)) if a != b]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    labels = component_labels(n, a, b)
    batches = list(component_batches(labels, a, max_edges=20))
    assert len(batches) > 5
    seen_edges = np.concatenate([batch.edges for batch in batches])
    assert sorted(seen_edges.tolist()) == list(range(len(edges)))
    seen_rows = np.concatenate([batch.rows for batch in batches])
    assert sorted(seen_rows.tolist()) == sorted(set(a.tolist()) | set(b.tolist()))
    for batch in batches:
        rows = set(batch.rows.tolist())
        assert {int(x) for x in a[batch.edges]} | {int(x) for x in b[batch.edges]} <= rows
        assert set(labels[batch.rows].tolist()).isdisjoint(
            set(labels[np.setdiff1d(np.arange(n), batch.rows)].tolist())
        )  # no component is cut between batches


def _canonical(result) -> tuple:
    return (
        sorted(sorted(c) for c in result.clusters),
        sorted(result.join_weight.items()),
        sorted((min(a, b), max(a, b), round(w, 9)) for a, b, w in result.review_pairs),
    )


def test_clustering_by_batches_equals_clustering_everything_at_once(monkeypatch) -> None:
    keys = seeded_keys("components")
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), 1200, 9, keys)
    arr = from_encodings(encodings)
    arr.body = np.random.default_rng(2).integers(0, 3, len(arr)).astype(np.int16)  # three bodies
    model = estimate(arr)
    model = calibrate_priors(model, arr)
    model = dataclasses.replace(model.applied_to(arr), same_body_shift=-3.0, other_body_shift=1.0)
    thresholds = Thresholds()
    scored = score_candidates(arr, model, candidate_pair_pieces(arr), thresholds.review)
    weights = scored.weights(model)
    ids_a, ids_b = arr.ids[scored.a].tolist(), arr.ids[scored.b].tolist()
    rng = random.Random(5)
    pairs = list(zip(ids_a, ids_b))
    same = rng.sample(pairs, 5) + [(int(arr.ids[0]), int(arr.ids[-1]))]  # one joins otherwise unrelated records
    different = set(rng.sample(pairs, 5))
    cannot = lambda a, b: (min(a, b), max(a, b)) in different  # noqa: E731
    conflict = authoritative_conflict(arr)
    may_link = dict(zip(pairs, scored.evidence.tolist()))
    lazy = LazyEncodings(arr)
    body = dict(zip(arr.ids.tolist(), arr.body.tolist()))
    whole = cluster(
        arr.ids.tolist(),
        zip(ids_a, ids_b, weights.tolist()),
        pair_weight=lambda a, b: model.score(compare(lazy[a], lazy[b])) + model.prior_shift(body[a], body[b]),
        cannot_link=lambda a, b: cannot(a, b) or conflict(a, b),
        thresholds=thresholds,
        must_link=same,
        may_link_automatically=lambda a, b: may_link[(a, b)],
    )
    monkeypatch.setattr(link, "CLUSTER_BATCH_PAIRS", 40)
    batched = cluster_scored(arr, scored, model, thresholds, must_link=same, cannot_link=cannot)
    assert _canonical(batched) == _canonical(whole)
    assert sum(len(c) for c in batched.clusters) == len(arr)
    assert sum(1 for c in batched.clusters if len(c) > 1) > 100  # real clusters, not only singletons
    assert batched.review_pairs  # and pairs left for review
    # the batches in worker processes, each with only its own records' rows: the same clusters,
    # in the same order (persons are made in this order), the same weights and review pairs
    decided = link.DecidedDifferent(frozenset(different))
    in_workers = cluster_scored(arr, scored, model, thresholds, must_link=same, cannot_link=decided, workers=2)
    here = cluster_scored(arr, scored, model, thresholds, must_link=same, cannot_link=decided, workers=1)
    assert in_workers.clusters == here.clusters == batched.clusters
    assert in_workers.join_weight == here.join_weight == batched.join_weight
    assert in_workers.review_pairs == here.review_pairs == batched.review_pairs


def test_clustering_in_workers_needs_what_travels(monkeypatch) -> None:
    """A closure cannot go to a worker process: with one, or with encodings given, the batches
    are clustered here (nothing is pickled)."""
    keys = seeded_keys("components")
    with tempfile.TemporaryDirectory() as scratch:
        encodings = encode_population(Path(scratch), 300, 4, keys)
    arr = from_encodings(encodings)
    model = calibrate_priors(estimate(arr), arr).applied_to(arr)
    scored = score_candidates(arr, model, candidate_pair_pieces(arr), Thresholds().review)
    monkeypatch.setattr(link, "CLUSTER_BATCH_PAIRS", 10)
    monkeypatch.setattr(link, "map_in_processes", lambda *args: pytest.fail("sent to workers"))
    cannot = lambda a, b: False  # noqa: E731
    alone = cluster_scored(arr, scored, model, Thresholds(), cannot_link=cannot, workers=2)
    given = cluster_scored(arr, scored, model, Thresholds(), encodings=encodings, workers=2)
    assert alone.clusters == given.clusters and sum(len(c) for c in given.clusters) == len(arr)
