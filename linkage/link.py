"""The whole linkage step on a set of encoded records, as pure functions over columns.

``hub_db.master_index`` runs the same steps incrementally against the stored index; ``link_all``
runs them from scratch, for the benchmarks and for tests that need a complete result.

Candidate pairs are compared and scored in batches (``linkage.compare_arrays``), and only pairs
whose match weight reaches the review threshold are kept: the clustering never starts from a pair
below it. (Where the clustering needs the weight of such a pair for a cluster average it
recomputes it exactly, one pair at a time.) The prior is therefore settled before scoring: on a
large index it is so low (about -17 bits at 200,000 records) that under 1 % of the blocked pairs
clear the threshold, and ``linkage.weight_bound`` drops most of the others before their names are
compared. Memory thus grows with the pairs that might be one person, not with all blocked pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from kim_hub.linkage.blocking_arrays import candidate_pair_pieces
from kim_hub.linkage.calibrate import PairPieces, calibrate_priors
from kim_hub.linkage.cluster import Clustering, Thresholds, cluster
from kim_hub.linkage.columnar import NONE, EncodingArrays, from_encodings
from kim_hub.linkage.compare import FIELDS, compare
from kim_hub.linkage.compare_arrays import (
    BATCH,
    PairLevels,
    cheap_levels,
    compare_pairs,
    individual_evidence,
    resolve_azr_typos,
    with_names,
)
from kim_hub.linkage.components import component_batches, component_labels
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.household import NOTHING_RELEASED, Release
from kim_hub.linkage.model import MatchModel
from kim_hub.linkage.weight_bound import BayesFactorBound
from kim_hub.runtime.gc_pause import cyclic_gc_paused
from kim_hub.runtime.parallel import map_in_processes, map_in_threads, worker_processes

_AZR = FIELDS.index("azr")
CLUSTER_BATCH_PAIRS = 100_000  # scored pairs clustered at once (whole components; see cluster_scored)
SMALL_COMPONENT = 50  # records: a component's pairs are all weighed in bulk (_small_component_weights)


@dataclass
class ScoredPairs:
    """Candidate pairs (rows of the arrays) that may matter, with Bayes factor and evidence flag."""

    a: np.ndarray
    b: np.ndarray
    bayes: np.ndarray  # log2 Bayes factor plus the prior shift of the pair's kind (MatchModel.prior_shifts)
    evidence: np.ndarray  # individual_evidence: may the pair link automatically?

    def weights(self, model: MatchModel) -> np.ndarray:
        """Match weights (Bayes factor and shift plus the model's overall prior log-odds)."""
        return self.bayes + model.prior_log_odds

    def select(self, mask: np.ndarray) -> ScoredPairs:
        return ScoredPairs(self.a[mask], self.b[mask], self.bayes[mask], self.evidence[mask])


def score_candidates(
    arr: EncodingArrays,
    model: MatchModel,
    pairs: PairPieces,
    review: float,
    released: Release = NOTHING_RELEASED,
    on_piece: Callable[[], None] | None = None,
    bound: BayesFactorBound | None = None,
) -> ScoredPairs:
    """Compare and score row pairs piece by piece (in threads: ``runtime.parallel``); keep
    those whose match weight (with the model's prior) reaches ``review``. Pairs whose bound
    misses it are not compared in full. ``released``: see ``linkage.household.Release``.
    ``on_piece`` is told of every piece scored (from the thread that scored it), for a progress bar;
    ``bound``: ``BayesFactorBound(arr, model)`` when the caller keeps it from an earlier run."""
    floor = review - model.prior_log_odds
    bound = BayesFactorBound(arr, model) if bound is None else bound

    def score_piece(index: int) -> list[tuple[np.ndarray, ...]]:
        a, b = pairs[index]
        kept: list[tuple[np.ndarray, ...]] = []
        for start in range(0, len(a), BATCH):
            pa, pb = a[start : start + BATCH], b[start : start + BATCH]
            levels, date_token = cheap_levels(arr, pa, pb)
            shift = model.prior_shifts(arr.body[pa], arr.body[pb])
            hopeful = bound.hopeful(pa, pb, levels, date_token, floor - shift)
            pa, pb, shift = pa[hopeful], pb[hopeful], shift[hopeful]
            full = with_names(arr, pa, pb, levels[hopeful], date_token[hopeful])
            bayes = _with_azr_typos(arr, model, pa, pb, full, floor - shift) + shift
            keep = bayes >= floor
            kept.append((pa[keep], pb[keep], bayes[keep], individual_evidence(full.levels[keep], released)))
        if on_piece is not None:
            on_piece()
        return kept

    kept = [part for parts in map_in_threads(score_piece, len(pairs)) for part in parts]
    if not kept:
        empty = np.empty(0, np.int64)
        return ScoredPairs(empty, empty, np.empty(0), np.empty(0, bool))
    return ScoredPairs(*(np.concatenate(parts) for parts in zip(*kept)))


def _with_azr_typos(
    arr: EncodingArrays, model: MatchModel, a: np.ndarray, b: np.ndarray, pairs: PairLevels, floor: np.ndarray
) -> np.ndarray:
    """Bayes factors with the differing AZR numbers checked for a typo, but only where the
    answer can decide whether the pair reaches its ``floor`` (there ``pairs.levels`` is completed)."""
    bayes = model.score_levels(pairs, with_prior=False)  # differing numbers scored as "different"
    differ = np.flatnonzero(pairs.levels[:, _AZR] == 0)
    if len(differ):
        as_typo = pairs.select(differ)
        as_typo.levels[:, _AZR] = 1
        decides = differ[(bayes[differ] >= floor[differ]) | (model.score_levels(as_typo, with_prior=False) >= floor[differ])]
        resolve_azr_typos(arr, a, b, pairs.levels, decides)
        bayes[decides] = model.score_levels(pairs.select(decides), with_prior=False)
    return bayes


def learn_model(encodings: Mapping[int, RecordEncoding] | EncodingArrays) -> MatchModel:
    """Estimate m/u by EM and calibrate the prior on the index's exactly agreeing pairs."""
    arr = encodings if isinstance(encodings, EncodingArrays) else from_encodings(encodings)
    return calibrate_priors(estimate(arr), arr)


class LazyEncodings(Mapping[int, RecordEncoding]):
    """Record id → ``RecordEncoding``, rebuilt from the arrays only when asked for.

    The clustering and the review evidence look at a few pairs one by one; decoding every
    record of a large index up front would cost more memory than all the arrays together.
    """

    def __init__(
        self, arr: EncodingArrays, cache: int = 50_000
    ) -> None:  # a batch of components at a time: pairs come close together
        self.arr = arr
        self._get = lru_cache(maxsize=cache)(self._decode)

    def _decode(self, record_id: int) -> RecordEncoding:
        row = int(np.searchsorted(self.arr.ids, record_id))
        if row >= len(self.arr) or self.arr.ids[row] != record_id:
            raise KeyError(record_id)
        return self.arr.record(row)

    def __getitem__(self, record_id: int) -> RecordEncoding:
        return self._get(record_id)

    def __iter__(self) -> Iterator[int]:
        return iter(self.arr.ids.tolist())

    def __len__(self) -> int:
        return len(self.arr)


def authoritative_conflict(arr: EncodingArrays) -> Callable[[int, int], bool]:
    """``identifiers_conflict`` by record id, for records of the AZR's keeper only.

    The clustering asks about hundreds of thousands of pairs, nearly all with a record that holds
    no such number, or two that hold the same one: those are answered from the numbers alone (one
    int per record). Only two different numbers look at their neighbours (the tokens one digit
    apart), read from the arrays when asked: sets for all records up front cost more than a
    gigabyte at a million records."""
    rows = np.flatnonzero(arr.azr_auth & (arr.azr != NONE))
    number_of: dict[int, int] = dict(zip(arr.ids[rows].tolist(), arr.azr[rows].tolist()))
    row_of = dict(zip(arr.ids[rows].tolist(), rows.tolist()))

    @lru_cache(maxsize=50_000)
    def neighbours(record_id: int) -> frozenset[int]:
        return frozenset(t for t in arr.azr_nb[row_of[record_id]].tolist() if t != NONE)

    def conflict(a: int, b: int) -> bool:
        x = number_of.get(a)
        if x is None:
            return False
        y = number_of.get(b)
        return y is not None and x != y and not (neighbours(a) & neighbours(b))

    return conflict


def cluster_scored(
    arr: EncodingArrays,
    scored: ScoredPairs,
    model: MatchModel,
    thresholds: Thresholds,
    must_link: list[tuple[int, int]] = (),  # type: ignore[assignment]
    cannot_link: Callable[[int, int], bool] | None = None,
    encodings: Mapping[int, RecordEncoding] | None = None,
    workers: int | None = None,
) -> Clustering:
    """Cluster the records (ids) of ``arr`` from their scored pairs (see ``linkage.cluster``).

    A batch of whole components at a time (``linkage.components``: the same result as all at
    once); a record without any pair reaching review is a cluster of its own and never enters
    the clustering's tables, which at a million records would otherwise hold gigabytes.

    The greedy clustering is pure Python, and a first run's million records kept one core busy
    for 25 s while the other idled. Batches never share a record, so when there are several
    they go to worker processes (``runtime.parallel.map_in_processes``), each with only its own
    records' rows, and come back in order: the result is the one of one process, cluster for
    cluster. That needs a ``cannot_link`` that travels to a process (None or ``DecidedDifferent``)
    and no ``encodings`` given; ``workers`` (default: ``worker_processes()``) 1 keeps it here."""
    weights = scored.weights(model)
    strong = np.flatnonzero(weights >= thresholds.review)
    decided = np.array(list(must_link), dtype=np.int64).reshape(-1, 2)
    decided = decided[np.isin(decided, arr.ids).all(axis=1)]
    must_rows = arr.index_of(decided.ravel()).reshape(-1, 2)
    edge_a = np.concatenate([scored.a[strong], must_rows[:, 0]])
    edge_b = np.concatenate([scored.b[strong], must_rows[:, 1]])
    labels = component_labels(len(arr), edge_a, edge_b)

    def batches() -> Iterator[ComponentWork]:
        for batch in component_batches(labels, edge_a, CLUSTER_BATCH_PAIRS):
            pairs = strong[batch.edges[batch.edges < len(strong)]]
            forced = batch.edges[batch.edges >= len(strong)] - len(strong)
            in_id_order = np.sort(batch.rows)
            yield ComponentWork(
                arr=arr.take(in_id_order),
                label_order=np.searchsorted(in_id_order, batch.rows),
                labels=labels[batch.rows],
                a=arr.ids[scored.a[pairs]],
                b=arr.ids[scored.b[pairs]],
                weights=weights[pairs],
                evidence=scored.evidence[pairs],
                must_link=[(int(a), int(b)) for a, b in decided[forced]],
                model=model,
                thresholds=thresholds,
                cannot_link=cannot_link,
            )

    parallel = encodings is None and (cannot_link is None or isinstance(cannot_link, DecidedDifferent))
    workers = (worker_processes() if len(strong) > 2 * CLUSTER_BATCH_PAIRS else 1) if workers is None else workers
    parts = (
        map_in_processes(cluster_components, batches(), workers)
        if parallel and workers > 1
        else (cluster_components(work, encodings) for work in batches())
    )
    result = Clustering(clusters=[], join_weight={})
    for part in parts:
        result.clusters += part.clusters
        result.join_weight.update(part.join_weight)
        result.review_pairs += part.review_pairs
    alone = np.bincount(labels, minlength=len(arr))[labels] == 1
    result.clusters += [[record] for record in arr.ids[alone].tolist()]
    return result


@dataclass(frozen=True)
class DecidedDifferent:
    """A ``cannot_link`` of the pairs (smaller id first) reviewers decided are two persons: a
    value, not a closure, so that it travels with a batch to a worker process."""

    pairs: frozenset[tuple[int, int]]

    def __call__(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.pairs


@dataclass(frozen=True)
class ComponentWork:
    """A batch of whole components as ``cluster_components`` clusters it, in this process or in
    a worker: its records' rows only (id order), its pairs reaching review by record id."""

    arr: EncodingArrays
    label_order: np.ndarray  # rows of ``arr`` by component (smallest global row first), id order within
    labels: np.ndarray  # each of those rows' component
    a: np.ndarray  # record ids of the pairs reaching review
    b: np.ndarray
    weights: np.ndarray  # their match weights
    evidence: np.ndarray  # may they link automatically?
    must_link: list[tuple[int, int]]
    model: MatchModel
    thresholds: Thresholds
    cannot_link: Callable[[int, int], bool] | None


@cyclic_gc_paused()  # a worker's collector would traverse the batch's tables again and again (runtime.gc_pause)
def cluster_components(work: ComponentWork, encodings: Mapping[int, RecordEncoding] | None = None) -> Clustering:
    """``cluster`` over one batch of components; pairs below review that a cluster average asks
    for are weighed in bulk within small components, else one at a time from ``encodings``
    (default: decoded from the batch's rows)."""
    arr, model = work.arr, work.model
    within = _small_component_weights(arr, model, work.label_order, work.labels)
    encodings = encodings if encodings is not None else LazyEncodings(arr)
    conflict = authoritative_conflict(arr)

    def pair_weight(a: int, b: int) -> float:  # a pair below review, weighed for a cluster average (a < b)
        known = within.get((a, b))
        if known is not None:
            return known
        body_a, body_b = arr.body[np.searchsorted(arr.ids, (a, b))]
        return model.score(compare(encodings[a], encodings[b])) + model.prior_shift(int(body_a), int(body_b))

    cannot_link = work.cannot_link
    rule_out = (lambda a, b: cannot_link(a, b) or conflict(a, b)) if cannot_link else conflict
    ids_a, ids_b = work.a.tolist(), work.b.tolist()
    may_link = dict(zip(zip(ids_a, ids_b), work.evidence.tolist()))
    return cluster(
        arr.ids[work.label_order].tolist(),
        zip(ids_a, ids_b, work.weights.tolist()),
        pair_weight=pair_weight,
        cannot_link=rule_out,
        thresholds=work.thresholds,
        must_link=work.must_link,
        may_link_automatically=lambda a, b: may_link[(a, b)],
    )


def _small_component_weights(
    arr: EncodingArrays, model: MatchModel, rows: np.ndarray, row_labels: np.ndarray
) -> dict[tuple[int, int], float]:
    """(smaller id, larger id) → match weight of every pair of records within each component of
    at most SMALL_COMPONENT records (rows sorted by their labels), compared and scored in bulk.

    A cluster average needs the weight of pairs below review, each once: one at a time they cost
    a decoded record each and a comparison in Python, about 0.1 ms, most of the clustering's
    time. At 100,000 generated persons 71 % of the pairs asked for lie in components of at most
    50 records, which hold 300,000 pairs, compared here in about a second. The weights are those
    of the one-pair path to the bit: the levels are the same (``tests/test_compare_arrays.py``),
    and so are the sums (``MatchModel.score_levels(as_one_pair=True)``) and the prior shift."""
    starts = np.flatnonzero(np.r_[True, row_labels[1:] != row_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(rows)])
    parts_a, parts_b = [], []
    for size in np.unique(sizes[(sizes >= 3) & (sizes <= SMALL_COMPONENT)]).tolist():
        first, second = np.triu_indices(size, 1)
        begin = starts[sizes == size][:, None]
        parts_a.append(rows[(begin + first).ravel()])
        parts_b.append(rows[(begin + second).ravel()])
    if not parts_a:
        return {}
    a, b = np.concatenate(parts_a), np.concatenate(parts_b)
    weights = model.score_levels(compare_pairs(arr, a, b), as_one_pair=True) + model.prior_shifts(arr.body[a], arr.body[b])
    ids_a, ids_b = arr.ids[a], arr.ids[b]
    low, high = np.minimum(ids_a, ids_b).tolist(), np.maximum(ids_a, ids_b).tolist()
    return dict(zip(zip(low, high), weights.tolist()))


def link_all(
    encodings: Mapping[int, RecordEncoding],
    thresholds: Thresholds = Thresholds(),
    model: MatchModel | None = None,
    twins_ruled_out: bool = False,
) -> tuple[Clustering, MatchModel]:
    """Block, compare, score and cluster every record; learns the model when none is given.
    ``twins_ruled_out``: as the installation's reviewers may have shown (``linkage.household``);
    the model's census of the index's households may show it, and let other patterns go too."""
    arr = from_encodings(encodings)
    learnt = model or calibrate_priors(estimate(arr), arr)
    applied = learnt.applied_to(arr)
    released = learnt.household_census.release(decided_twins=twins_ruled_out)
    scored = score_candidates(arr, applied, candidate_pair_pieces(arr), thresholds.review, released)
    return cluster_scored(arr, scored, applied, thresholds, encodings=encodings), applied
