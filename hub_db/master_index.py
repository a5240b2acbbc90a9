"""The master index: which records are one person, kept stable as records arrive.

Linking is incremental. Only records that are new or changed (``hub_db.link_queue``) start a run; the
persons they might belong to (found through blocking) are re-clustered together with them, and
everything else stays as it is. Pseudonyms are random and stable: a re-clustered group keeps the
pseudonym of the old person it overlaps most, a group with no predecessor gets a new one, and
every merge and split is recorded as an event with before, after and reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kim_hub.hub_db import index_snapshot, kept_index, learnt_names
from kim_hub.hub_db.in_lists import IN_CHUNK, chunked
from kim_hub.hub_db.link_queue import dequeue, enqueue_all, waiting
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.models import Link, ModelVersion, ReviewItem
from kim_hub.hub_db.person_assignment import assign_persons
from kim_hub.linkage.blocking_arrays import block_keys, candidate_pair_pieces
from kim_hub.linkage.calibrate import calibrate_priors
from kim_hub.linkage.cluster import DEFAULT_AUTO_PROBABILITY, DEFAULT_REVIEW_PROBABILITY, Clustering, Thresholds
from kim_hub.linkage.columnar import EncodingArrays
from kim_hub.linkage.compare import FIELDS, LEVELS, MISSING, compare
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.default_model import MIN_RECORDS_TO_ESTIMATE, default_model
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.estimate import estimate
from kim_hub.linkage.household import NOTHING_RELEASED, HouseholdCensus, HouseholdDecisions, Release, household_decisions
from kim_hub.linkage.incremental import recluster_scope
from kim_hub.linkage.learnt_names import MIN_PERSONS, Evidence, LearntNames, identifier_evidence, records_holding
from kim_hub.linkage.link import DecidedDifferent, LazyEncodings, ScoredPairs, cluster_scored, score_candidates
from kim_hub.linkage.model import MatchModel, probability
from kim_hub.linkage.weight_bound import BayesFactorBound
from kim_hub.runtime import progress
from kim_hub.runtime.gc_pause import cyclic_gc_paused
from kim_hub.runtime.parallel import in_background


@dataclass(frozen=True)
class LinkPolicy:
    """When to link, when to ask, when to re-learn (from hub.toml's [linkage])."""

    auto_link_probability: float = DEFAULT_AUTO_PROBABILITY
    review_probability: float = DEFAULT_REVIEW_PROBABILITY
    reestimate_growth: float = 0.2
    name_equivalence_persons: int = MIN_PERSONS  # linkage.learnt_names; 0: nothing is learnt
    household_census: bool = True  # may the model's census let household evidence alone go (linkage.household)?

    def thresholds(self) -> Thresholds:
        return Thresholds.from_probabilities(self.auto_link_probability, self.review_probability)


@dataclass(frozen=True)
class LinkOutcome:
    """Counts of one linking run (fixed metric names, reported per run)."""

    records_linked: int = 0
    persons_created: int = 0
    persons_merged: int = 0
    persons_split: int = 0
    review_items: int = 0
    model_version: int | None = None
    given_name_pairs: int = 0  # the learnt given-name pairs the run applied (linkage.learnt_names)
    records_set_aside: int = 0  # records whose sealed encoding did not open: in the index without identity


@cyclic_gc_paused()  # a first run builds a million records' links and events (runtime.gc_pause)
def link_pending(session: Session, policy: LinkPolicy = LinkPolicy()) -> LinkOutcome:
    """Link every record waiting for it into the master index (the caller commits).

    One linking at a time (hub_db.locks): the lock is taken before anything is read."""
    hold(session, LINKING)
    pending = waiting(session)
    if not pending:
        return LinkOutcome()
    records = f"{len(pending)} records"  # a terminal's bar (runtime.progress): counts only
    progress.begin("link", None, f"{records}: loading the index")
    start = kept_index.begin(session, pending)
    index = start.kept or kept_index.KeptIndex(index_snapshot.load(session, queued=pending))
    loaded, derived = index.loaded, index.derived
    # the given-name equivalences confirmed now (linkage.learnt_names); the records holding a name
    # whose equivalence changed since the last run are linked again
    by_identifier = derived("identifier_name_evidence", lambda: identifier_evidence(loaded.arrays))
    learnt, changed = _learnt_given_names(session, loaded.arrays, policy, by_identifier)
    pending = pending | changed
    arr = derived(("arrays", learnt.fingerprint), lambda: learnt.applied(loaded.arrays))
    # the blocking keys (a sort of tens of millions of keys at a million records) are made
    # meanwhile in a thread of their own: on a first run the model is learnt on the other core
    keys_made = in_background(lambda: derived(("block_keys", learnt.fingerprint), lambda: block_keys(arr)))
    params, version = _stored_model(session, len(arr), policy)
    if params is None:  # learnt (and its prior settled) before scoring: the prior sets the floor
        progress.note("link", f"{records}: learning the model")
        params, version = _store_new_model(session, arr, _new_parameters(session, arr))
    # the reviewers' decisions or the index's own households (the model's census) may show that
    # a pattern of household evidence alone is one person here (linkage.household)
    released = household_release(session, arr, params.household_census, policy)
    if released:  # pairs a rule held back and the model would link: their records again
        pending = pending | _held_back_by_released_rules(session, arr, policy, released)
        records = f"{len(pending)} records"
    focus = np.isin(arr.ids, np.fromiter(pending, dtype=np.int64, count=len(pending)))
    everything = bool(focus.all())
    thresholds = policy.thresholds()
    model = derived(("model", version, learnt.fingerprint), lambda: params.applied_to(arr))
    # the pairs touching new records (on a first run, all pairs) are compared once and serve
    # the scope search and, on a first run, the clustering
    pieces = candidate_pair_pieces(arr, focus=None if everything else focus, keys=keys_made.result())
    bound = derived(("bound", version, learnt.fingerprint), lambda: BayesFactorBound(arr, model))
    progress.begin("link", len(pieces), f"{records}: scoring candidate pairs")
    scored = score_candidates(arr, model, pieces, thresholds.review, released, partial(progress.advance, "link", 1), bound=bound)
    progress.note("link", f"{records}: clustering")

    strong = scored.weights(model) >= thresholds.review
    if everything:
        links, scope = _all_links(session), pending
    else:
        links = _links_around(
            session, pending | set(arr.ids[scored.a[strong]].tolist()) | set(arr.ids[scored.b[strong]].tolist())
        )
        scope = recluster_scope(pending, arr.ids, scored.a[strong], scored.b[strong], links)
    result = _cluster_scope(session, scope, arr, model, thresholds, scored if everything else None, released)
    # a record whose sealed encoding did not open is judged by nothing: it keeps the link it had
    # (its person stays, even if its other records move on), gets none if it had none, and waits
    # in the queue until it opens
    set_aside = set(loaded.unopened.tolist())
    result = _leaving_out(result, set_aside)
    created, merged, split = assign_persons(session, result, links, version, still_linked=_persons_of(set_aside, links))
    review_count = _store_review_items(session, result, scope, LazyEncodings(arr), model)
    dequeue(session, pending - set_aside)
    index_snapshot.save(session, loaded)  # committed with the links, or not at all
    kept_index.finish(session, start, index)  # kept for this process's next run once committed
    progress.note("link", f"{records} linked")
    progress.settle("link")
    linked = len(pending - set_aside)
    return LinkOutcome(linked, created, merged, split, review_count, version, len(learnt.pairs), len(set_aside))


def _leaving_out(result: Clustering, records: set[int]) -> Clustering:
    """``result`` without ``records``: no cluster, join weight or review pair of theirs."""
    if not records:
        return result
    clusters = [kept for members in result.clusters if (kept := [r for r in members if r not in records])]
    join_weight = {r: w for r, w in result.join_weight.items() if r not in records}
    review_pairs = [pair for pair in result.review_pairs if pair[0] not in records and pair[1] not in records]
    return Clustering(clusters, join_weight, review_pairs)


def _persons_of(records: set[int], links: Mapping[int, int]) -> set[int]:
    """The persons ``records`` are linked to (those linked at all)."""
    return {links[r] for r in records if r in links}


def _all_links(session: Session) -> dict[int, int]:
    """Every linked record's person (read past the ORM's row handling: a million rows)."""
    return dict(session.connection().execute(select(Link.record_id, Link.person_id)).all())


def _links_around(session: Session, touched: set[int]) -> dict[int, int]:
    """The links a run over ``touched`` records looks at: those of every record of their persons
    (``recluster_scope`` adds those records to the scope, and only the scope's links are asked
    for). Many touched records (most of the index): every link, in one scan."""
    if len(touched) > 50 * IN_CHUNK:
        return _all_links(session)
    persons: set[int] = set()
    for chunk in chunked(sorted(touched)):
        persons.update(session.execute(select(Link.person_id).where(Link.record_id.in_(chunk))).scalars())
    links: dict[int, int] = {}
    for chunk in chunked(sorted(persons)):
        query = select(Link.record_id, Link.person_id).where(Link.person_id.in_(chunk))
        links.update((record, person) for record, person in session.execute(query))
    return links


def _learnt_given_names(
    session: Session, arr: EncodingArrays, policy: LinkPolicy, by_identifier: Evidence
) -> tuple[LearntNames, set[int]]:
    """The given-name equivalences the index confirms now, stored for the next run, and the
    records holding a name whose equivalence was learnt or given up since the last run."""
    learnt = learnt_names.learnt_now(session, arr, policy.name_equivalence_persons, by_identifier)
    before = learnt_names.stored(session)
    if learnt == before:
        return learnt, set()
    learnt_names.store(session, learnt)
    return learnt, set(records_holding(arr, {token for pair in learnt.pairs ^ before.pairs for token in pair}).tolist())


def load_index(session: Session, learnt: LearntNames | None = None) -> EncodingArrays:
    """Every stored encoding as columns (``linkage.columnar``), from the snapshot where it is
    current, with the given-name equivalences the links were made with (``linkage.learnt_names``;
    ``learnt``: those, when the caller has read them already)."""
    return (learnt if learnt is not None else learnt_names.stored(session)).applied(index_snapshot.load(session).arrays)


def current_model(session: Session, arr: EncodingArrays, policy: LinkPolicy = LinkPolicy()) -> tuple[MatchModel, int]:
    """The model the next run would use, applied to the index as it is (learnt first if due)."""
    stored, version = _stored_model(session, len(arr), policy)
    if stored is None:
        stored, version = _store_new_model(session, arr, _new_parameters(session, arr))
    return stored.applied_to(arr), version


def _stored_model(session: Session, records: int, policy: LinkPolicy) -> tuple[MatchModel | None, int]:
    """The latest stored parameters and their version, or (None, 0) when they are due for
    re-learning: the index has grown enough since (``reestimate_growth``), or there are none."""
    latest = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one_or_none()
    too_small = records < MIN_RECORDS_TO_ESTIMATE
    grown = latest is None or records >= latest.record_count * (1 + policy.reestimate_growth)
    if latest is not None and (too_small or not grown):
        return MatchModel.from_dict(latest.parameters), latest.id
    return None, 0


def _new_parameters(session: Session, arr: EncodingArrays) -> MatchModel:
    """Parameters for a new version, before the prior is calibrated: the shipped default for a
    small index (fewer than MIN_RECORDS_TO_ESTIMATE records; EM would learn noise), else EM,
    with the pairs reviewers decided to be one person as labelled matches."""
    if len(arr) < MIN_RECORDS_TO_ESTIMATE:
        return default_model()
    levels, same = decided_pairs(session, arr)
    return estimate(arr, decided_same=levels[same])


def _store_new_model(session: Session, arr: EncodingArrays, params: MatchModel) -> tuple[MatchModel, int]:
    """Calibrate the prior of learnt parameters and store them as a new model version.

    The prior, and its shifts for pairs from one body and from two, come from the index's exactly
    agreeing pairs (compared only where two records share a name token and a precise birth date).
    The shipped default keeps its own prior and no shifts.
    """
    learnt_on = 0
    if len(arr) >= MIN_RECORDS_TO_ESTIMATE:
        params = calibrate_priors(params, arr)
        learnt_on = len(arr)
    stored = ModelVersion(record_count=learnt_on, parameters=params.to_dict())
    session.add(stored)
    session.flush()
    return params, stored.id


def reestimate(session: Session, relink: bool = False) -> int:
    """Learn the model anew from the whole index and store it as a new version.

    With ``relink`` every record is queued for linking, so the next link run re-clusters the
    whole index under the new parameters (pseudonyms stay with the persons they overlap most).
    """
    arr = load_index(session)
    _model, version = _store_new_model(session, arr, _new_parameters(session, arr))
    if relink:
        enqueue_all(session)
    return version


def _cluster_scope(
    session: Session,
    scope: set[int],
    arr: EncodingArrays,
    model: MatchModel,
    thresholds: Thresholds,
    scored: ScoredPairs | None,
    released: Release = NOTHING_RELEASED,
) -> Clustering:
    """Cluster the scope's records; ``scored``: its pairs already scored (the whole index)."""
    sub = arr if scored is not None else arr.take(np.sort(arr.index_of(np.fromiter(scope, dtype=np.int64, count=len(scope)))))
    if scored is None:
        scored = score_candidates(sub, model, candidate_pair_pieces(sub), thresholds.review, released)
    same, different = _decisions(session, scope)
    return cluster_scored(
        sub,
        scored,
        model,
        thresholds,
        must_link=same,
        cannot_link=DecidedDifferent(frozenset(different)) if different else None,  # none: not asked per pair
    )


@dataclass(frozen=True)
class HouseholdRules:
    """What the model in force counted in the index's households and what the reviewers decided:
    which patterns of household evidence alone link automatically here (``linkage.household``).
    Counts only: a data-protection officer can see why the hub links such pairs, or does not."""

    model_version: int | None
    census: HouseholdCensus
    decisions: HouseholdDecisions
    census_decides: bool = True  # hub.toml's [linkage] household_census

    @property
    def release(self) -> Release:
        if not self.census_decides:
            return Release(twins=self.decisions.rules_out_twins)
        return self.census.release(decided_twins=self.decisions.rules_out_twins)


def household_rules(session: Session, policy: LinkPolicy = LinkPolicy()) -> HouseholdRules:
    """The latest model's census and the decisions on the twins' pattern (the index is read only
    when there are decisions to compare). A small index runs on the shipped default model, whose
    counts are of the data it was made from, not of this index: no model of its own, no census."""
    latest = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one_or_none()
    own = latest if latest is not None and latest.record_count > 0 else None
    census = HouseholdCensus() if own is None else MatchModel.from_dict(own.parameters).household_census
    decided = session.execute(select(ReviewItem.record_a, ReviewItem.record_b).where(ReviewItem.status != "open")).all()
    decisions = HouseholdDecisions()
    if decided:  # the decided pairs' records only: the whole index would cost seconds and gigabytes
        records = np.array([record for pair in decided for record in pair], dtype=np.int64)
        arr = learnt_names.stored(session).applied(index_snapshot.load_records(session, records))
        decisions = household_decisions_of(session, arr)
    return HouseholdRules(None if own is None else own.id, census, decisions, policy.household_census)


def household_release(session: Session, arr: EncodingArrays, census: HouseholdCensus, policy: LinkPolicy) -> Release:
    """What the model's census and the reviewers' decisions let go here, as hub.toml allows: what
    the batch run and the online index both go by."""
    return HouseholdRules(None, census, household_decisions_of(session, arr), policy.household_census).release


def household_decisions_of(session: Session, arr: EncodingArrays) -> HouseholdDecisions:
    """The reviewers' decisions on pairs of the twins' pattern (``linkage.household``), over the
    whole index."""
    levels, same = decided_pairs(session, arr)
    return household_decisions(levels, same) if len(levels) else HouseholdDecisions()


def decided_pairs(session: Session, arr: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    """Every decided review item's pair as the index compares it now (its levels, recomputed
    from the encodings the records have: a decision on a record since erased no longer counts)
    and whether it was decided *same*."""
    query = select(ReviewItem.record_a, ReviewItem.record_b, ReviewItem.status).where(ReviewItem.status != "open")
    decided = session.execute(query).all()
    a = np.array([row[0] for row in decided], dtype=np.int64)
    b = np.array([row[1] for row in decided], dtype=np.int64)
    same = np.array([row[2] == "same" for row in decided], dtype=bool)
    present = np.isin(a, arr.ids) & np.isin(b, arr.ids)
    levels = compare_pairs(arr, arr.index_of(a[present]), arr.index_of(b[present])).levels
    return levels, same[present]


def _held_back_by_released_rules(session: Session, arr: EncodingArrays, policy: LinkPolicy, released: Release) -> set[int]:
    """The records of open review items that show a pattern let go now with a probability at the
    automatic threshold: the rule alone kept them apart (their items go once they are linked)."""
    query = select(ReviewItem.record_a, ReviewItem.record_b).where(
        ReviewItem.status == "open", ReviewItem.score >= policy.auto_link_probability
    )
    waiting_items = session.execute(query).all()
    a = np.array([row[0] for row in waiting_items], dtype=np.int64)
    b = np.array([row[1] for row in waiting_items], dtype=np.int64)
    present = np.isin(a, arr.ids) & np.isin(b, arr.ids)
    a, b = a[present], b[present]
    pattern = released.released(compare_pairs(arr, arr.index_of(a), arr.index_of(b)).levels)
    return set(a[pattern].tolist()) | set(b[pattern].tolist())


def _decisions(session: Session, scope: set[int]) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Coordinators' decisions within the scope: pairs that must and must not be one person."""
    query = select(ReviewItem.record_a, ReviewItem.record_b, ReviewItem.status).where(ReviewItem.status != "open")
    same: list[tuple[int, int]] = []
    different: set[tuple[int, int]] = set()
    for a, b, status in session.execute(query).all():
        if a in scope and b in scope:
            pair = (min(a, b), max(a, b))
            (same.append(pair) if status == "same" else different.add(pair))
    return same, different


def _store_review_items(
    session: Session, result: Clustering, scope: set[int], encodings: Mapping[int, RecordEncoding], model: MatchModel
) -> int:
    """Bring the scope's open review items in line with the pairs this run left undecided.

    One item per pair of clusters (their most probable pair), with what its decision would
    change (``decision_stake``: the records of both clusters). An item that is still open keeps
    its id, so a coordinator's list does not renumber between runs; decided items are kept.
    """
    cluster_of = {r: i for i, records in enumerate(result.clusters) for r in records}
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for a, b, weight in result.review_pairs:
        key = (min(cluster_of[a], cluster_of[b]), max(cluster_of[a], cluster_of[b]))
        if key not in best or weight > best[key][0]:
            best[key] = (weight, min(a, b), max(a, b))
    wanted = {(a, b): weight for weight, a, b in best.values()}
    records = {
        (min(a, b), max(a, b)): len(result.clusters[cluster_of[a]]) + len(result.clusters[cluster_of[b]]) for a, b in wanted
    }
    existing: dict[tuple[int, int], ReviewItem] = {}
    if len(scope) > 50 * IN_CHUNK:  # most of the index: one scan beats many IN lists
        items = session.execute(select(ReviewItem)).scalars()
        existing = {(i.record_a, i.record_b): i for i in items if i.record_a in scope or i.record_b in scope}
    for chunk in chunked(sorted(scope)) if not existing and len(scope) <= 50 * IN_CHUNK else []:
        query = select(ReviewItem).where(or_(ReviewItem.record_a.in_(chunk), ReviewItem.record_b.in_(chunk)))
        existing.update({(item.record_a, item.record_b): item for item in session.execute(query).scalars()})
    for pair, item in existing.items():
        if item.status == "open" and pair not in wanted:
            session.delete(item)
    for (a, b), weight in wanted.items():
        stored = existing.get((a, b))
        if stored is None:
            session.add(
                ReviewItem(
                    record_a=a,
                    record_b=b,
                    score=round(probability(weight), 4),
                    stake=decision_stake(probability(weight), records[(a, b)]),
                    evidence=evidence(encodings[a], encodings[b]),
                    weights=field_weights(encodings[a], encodings[b], model),
                )
            )
        elif stored.status == "open":
            stored.score = round(probability(weight), 4)
            stored.stake = decision_stake(probability(weight), records[(a, b)])
            stored.evidence = evidence(encodings[a], encodings[b])
            stored.weights = field_weights(encodings[a], encodings[b], model)
    return sum(1 for pair in wanted if pair not in existing or existing[pair].status == "open")


def decision_stake(match_probability: float, records: int) -> float:
    """What deciding an item would change, expected: the records of the two groups a *same*
    decision would make one person, times how probable the model finds that. A pair joining a
    person known at four bodies to another of three comes before two lone records of the same
    probability; a pair the model barely sent to review comes after a likelier one of the same
    size. Rounded, so that the queue's order does not turn on the last digits of a float."""
    return round(match_probability * records, 4)


def evidence(a: RecordEncoding, b: RecordEncoding) -> dict[str, str]:
    """Per-field agreement in words, for a coordinator who must not see the names."""
    comparison = compare(a, b)
    described = {
        field: ("absent" if level == MISSING else LEVELS[field][level]) for field, level in zip(FIELDS, comparison.levels)
    }
    if comparison.swapped:
        described["family_name"] += " (given and family name swapped)"
    for record, name in ((a, "A"), (b, "B")):
        if record.birth_date and record.birth_date.placeholder:
            described["birth_date"] += f"; placeholder date in record {name}"
    return described


def field_weights(a: RecordEncoding, b: RecordEncoding, model: MatchModel) -> dict[str, float]:
    """What each field added to the pair's match weight (log2 Bayes factor) under the model that
    scored it: numbers from the keyed encodings, no value in clear, for the reviewer's chart."""
    return {field: round(weight, 3) for field, weight in zip(FIELDS, model.field_weights(compare(a, b)), strict=True)}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
