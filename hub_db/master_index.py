"""The master index: which records are one person, kept stable as records arrive.

Linking is incremental. Only records that are new or changed (``needs_link``) start a run; the
persons they might belong to (found through blocking) are re-clustered together with them, and
everything else stays as it is. Pseudonyms are random and stable: a re-clustered group keeps the
pseudonym of the old person it overlaps most, a group with no predecessor gets a new one, and
every merge and split is recorded as an event with before, after and reason.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from hub_db.locks import LINKING, hold
from hub_db.models import Link, LinkEvent, ModelVersion, Person, ReviewItem, SourceRecord
from linkage.blocking import candidate_pairs
from linkage.cluster import DEFAULT_AUTO_PROBABILITY, DEFAULT_REVIEW_PROBABILITY, Clustering, Thresholds, cluster
from linkage.compare import FIELDS, LEVELS, MISSING, Comparison, compare, identifiers_conflict, individual_evidence
from linkage.default_model import MIN_RECORDS_TO_ESTIMATE, default_model
from linkage.encode import RecordEncoding
from linkage.estimate import MatchModel, probability
from linkage.link import learn_model


@dataclass(frozen=True)
class LinkPolicy:
    """When to link, when to ask, when to re-learn (from hub.toml's [linkage])."""

    auto_link_probability: float = DEFAULT_AUTO_PROBABILITY
    review_probability: float = DEFAULT_REVIEW_PROBABILITY
    reestimate_growth: float = 0.2

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


IN_CHUNK = 1000  # bound parameters per IN (...): PostgreSQL allows 65,535 per statement


def chunked(values: list[int], size: int = IN_CHUNK) -> list[list[int]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def new_pseudonym() -> str:
    """A random person pseudonym: carries nothing of the person, so it can be shown anywhere."""
    return "P-" + secrets.token_hex(6).upper()


def link_pending(session: Session, policy: LinkPolicy = LinkPolicy()) -> LinkOutcome:
    """Link every record waiting for it into the master index (the caller commits).

    One linking at a time (hub_db.locks): the lock is taken before anything is read."""
    hold(session, LINKING)
    rows = session.execute(select(SourceRecord.id, SourceRecord.encoding, SourceRecord.needs_link)).all()
    pending = {row.id for row in rows if row.needs_link}
    if not pending:
        return LinkOutcome()
    encodings = {row.id: RecordEncoding.from_json(row.encoding) for row in rows}
    # every comparison is made once per run: the pairs touching new records serve the model (on a
    # first run they are all pairs), the scope search and the clustering alike
    comparisons = {(a, b): compare(encodings[a], encodings[b]) for a, b in candidate_pairs(encodings, focus=pending)}
    all_pairs = list(comparisons.values()) if len(pending) == len(encodings) else None
    model, version = current_model(session, encodings, policy, all_pairs)
    thresholds = policy.thresholds()

    links = {record: person for record, person in session.execute(select(Link.record_id, Link.person_id)).all()}
    members: dict[int, set[int]] = defaultdict(set)
    for record, person in links.items():
        members[person].add(record)

    scope = set(pending)
    for (a, b), comparison in comparisons.items():
        if model.score(comparison) >= thresholds.review:
            for record in (a, b):
                if record in links:
                    scope |= members[links[record]]
                scope.add(record)
    for record in list(scope):  # a changed record drags its old person along
        if record in links:
            scope |= members[links[record]]

    result = _cluster_scope(session, scope, encodings, model, thresholds, comparisons)
    created, merged, split = _assign_persons(session, result, links, version)
    review_count = _store_review_items(session, result, scope, encodings, model)
    for chunk in chunked(sorted(pending)):
        session.execute(update(SourceRecord).where(SourceRecord.id.in_(chunk)).values(needs_link=False))
    return LinkOutcome(len(pending), created, merged, split, review_count, version)


def current_model(
    session: Session,
    encodings: dict[int, RecordEncoding],
    policy: LinkPolicy,
    candidates: list[Comparison] | None = None,
) -> tuple[MatchModel, int]:
    """The stored model, re-learnt first when the index has grown enough since it was learnt.

    ``candidates``: the compared candidate pairs of the whole index, when the caller has them.
    """
    latest = session.execute(select(ModelVersion).order_by(ModelVersion.id.desc()).limit(1)).scalar_one_or_none()
    too_small = len(encodings) < MIN_RECORDS_TO_ESTIMATE
    grown = latest is None or len(encodings) >= latest.record_count * (1 + policy.reestimate_growth)
    if latest is not None and (too_small or not grown):
        return MatchModel.from_dict(latest.parameters).applied_to(encodings.values()), latest.id
    model, version = _store_new_model(session, encodings, candidates)
    return model.applied_to(encodings.values()), version


def _store_new_model(
    session: Session, encodings: dict[int, RecordEncoding], candidates: list[Comparison] | None = None
) -> tuple[MatchModel, int]:
    """Learn (or, for a small index, take the shipped default) and store a new model version.

    A small index (fewer than MIN_RECORDS_TO_ESTIMATE records) uses the shipped default model:
    EM on a handful of records would learn noise.
    """
    if len(encodings) < MIN_RECORDS_TO_ESTIMATE:
        model, learnt_on = default_model(), 0
    else:
        model, learnt_on = learn_model(encodings, candidates), len(encodings)
    stored = ModelVersion(record_count=learnt_on, parameters=model.to_dict())
    session.add(stored)
    session.flush()
    return model, stored.id


def reestimate(session: Session, relink: bool = False) -> int:
    """Learn the model anew from the whole index and store it as a new version.

    With ``relink`` every record is queued for linking, so the next link run re-clusters the
    whole index under the new parameters (pseudonyms stay with the persons they overlap most).
    """
    rows = session.execute(select(SourceRecord.id, SourceRecord.encoding)).all()
    _model, version = _store_new_model(session, {row.id: RecordEncoding.from_json(row.encoding) for row in rows})
    if relink:
        session.execute(update(SourceRecord).values(needs_link=True))
    return version


def _cluster_scope(
    session: Session,
    scope: set[int],
    encodings: dict[int, RecordEncoding],
    model: MatchModel,
    thresholds: Thresholds,
    known: dict[tuple[int, int], Comparison],
) -> Clustering:
    scoped = {r: encodings[r] for r in scope}
    comparisons = {pair: known.get(pair) or compare(scoped[pair[0]], scoped[pair[1]]) for pair in candidate_pairs(scoped)}
    same, different = _decisions(session, scope)
    return cluster(
        scope,
        [(a, b, model.score(c)) for (a, b), c in comparisons.items()],
        pair_weight=lambda a, b: model.score(compare(encodings[a], encodings[b])),
        cannot_link=lambda a, b: (min(a, b), max(a, b)) in different or identifiers_conflict(encodings[a], encodings[b]),
        thresholds=thresholds,
        must_link=same,
        may_link_automatically=lambda a, b: individual_evidence(comparisons[(a, b)]),
    )


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


def _assign_persons(
    session: Session, result: Clustering, links: dict[int, int], model_version: int
) -> tuple[int, int, int]:
    """Give each cluster a person: the old one it overlaps most, else a new pseudonym."""
    overlaps = []
    for index, records in enumerate(result.clusters):
        counts = Counter(links[r] for r in records if r in links)
        overlaps += [(count, -person, index, person) for person, count in counts.items()]
    owner_of_cluster: dict[int, int] = {}
    taken: set[int] = set()
    for _count, _neg, index, person in sorted(overlaps, reverse=True):
        if index not in owner_of_cluster and person not in taken:
            owner_of_cluster[index] = person
            taken.add(person)

    pseudonyms = dict(session.execute(select(Person.id, Person.pseudonym)).all())
    created = merged = split = 0
    old_persons_in_scope = {links[r] for records in result.clusters for r in records if r in links}
    clusters_of_old: dict[int, set[int]] = defaultdict(set)
    for index, records in enumerate(result.clusters):
        for r in records:
            if r in links:
                clusters_of_old[links[r]].add(index)

    newcomers = {index: Person(pseudonym=new_pseudonym()) for index in range(len(result.clusters)) if index not in owner_of_cluster}
    session.add_all(newcomers.values())
    session.flush()  # one flush gives every new person its id
    person_of_cluster: dict[int, int] = {}
    for index, records in enumerate(result.clusters):
        person_id = owner_of_cluster.get(index)
        if person_id is None:
            person = newcomers[index]
            person_id = person.id
            pseudonyms[person_id] = person.pseudonym
            if not any(r in links for r in records):
                session.add(LinkEvent(kind="create", before=[], after=[person.pseudonym], records=len(records), reason="new records", model_version=model_version))
            created += 1
        person_of_cluster[index] = person_id
        predecessors = sorted({links[r] for r in records if r in links} - {person_id})
        if predecessors:
            session.add(
                LinkEvent(
                    kind="merge" if owner_of_cluster.get(index) else "move",
                    before=[pseudonyms[p] for p in predecessors] + ([pseudonyms[person_id]] if owner_of_cluster.get(index) else []),
                    after=[pseudonyms[person_id]],
                    records=len(records),
                    reason="linkage evidence",
                    model_version=model_version,
                )
            )
            merged += len(predecessors)
        _write_links(session, records, person_id, result, links)

    for old, indexes in clusters_of_old.items():
        if len(indexes) > 1:
            split += 1
            session.add(
                LinkEvent(
                    kind="split",
                    before=[pseudonyms[old]],
                    after=sorted({pseudonyms[person_of_cluster[i]] for i in indexes}),
                    records=sum(len(result.clusters[i]) for i in indexes),
                    reason="records no longer link",
                    model_version=model_version,
                )
            )
    retired = old_persons_in_scope - taken
    if retired:
        for chunk in chunked(sorted(retired)):
            session.execute(update(Person).where(Person.id.in_(chunk)).values(retired_at=_utcnow()))
    return created, merged, split


def _write_links(session: Session, records: list[int], person_id: int, result: Clustering, links: dict[int, int]) -> None:
    review_records = {r for a, b, _w in result.review_pairs for r in (a, b)}
    for record in records:
        if len(records) == 1:
            status, score = ("review" if record in review_records else "single"), None
        else:
            weight = result.join_weight.get(record)
            status, score = "auto", (round(probability(weight), 4) if weight is not None else None)
            if weight is None:
                status = "manual"
        if record in links:
            session.execute(update(Link).where(Link.record_id == record).values(person_id=person_id, status=status, score=score))
        else:
            session.add(Link(record_id=record, person_id=person_id, status=status, score=score))


def _store_review_items(
    session: Session, result: Clustering, scope: set[int], encodings: dict[int, RecordEncoding], model: MatchModel
) -> int:
    """Bring the scope's open review items in line with the pairs this run left undecided.

    One item per pair of clusters (their most probable pair). An item that is still open keeps
    its id, so a coordinator's list does not renumber between runs; decided items are kept.
    """
    cluster_of = {r: i for i, records in enumerate(result.clusters) for r in records}
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for a, b, weight in result.review_pairs:
        key = (min(cluster_of[a], cluster_of[b]), max(cluster_of[a], cluster_of[b]))
        if key not in best or weight > best[key][0]:
            best[key] = (weight, min(a, b), max(a, b))
    wanted = {(a, b): weight for weight, a, b in best.values()}
    existing: dict[tuple[int, int], ReviewItem] = {}
    for chunk in chunked(sorted(scope)):
        query = select(ReviewItem).where(or_(ReviewItem.record_a.in_(chunk), ReviewItem.record_b.in_(chunk)))
        existing.update({(item.record_a, item.record_b): item for item in session.execute(query).scalars()})
    for pair, item in existing.items():
        if item.status == "open" and pair not in wanted:
            session.delete(item)
    for (a, b), weight in wanted.items():
        item = existing.get((a, b))
        if item is None:
            session.add(ReviewItem(record_a=a, record_b=b, score=round(probability(weight), 4), evidence=evidence(encodings[a], encodings[b])))
        elif item.status == "open":
            item.score = round(probability(weight), 4)
            item.evidence = evidence(encodings[a], encodings[b])
    return sum(1 for pair in wanted if pair not in existing or existing[pair].status == "open")


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


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
