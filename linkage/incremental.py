"""Incremental linking as rules: which records a run re-clusters, and which person each cluster becomes.

A link run re-clusters only the records that new and changed ones touch (``recluster_scope``), and
the persons of the index must stay stable across runs: a re-clustered group keeps the person it
overlaps most, a group with no predecessor gets a new one, and every create, merge, move and split
is an event with before, after and reason (``plan_assignment``). Both are pure functions over ids;
storage (``hub_db.person_assignment``) writes the plan, with pseudonyms in place of person ids.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from kim_hub.linkage.cluster import Clustering
from kim_hub.linkage.model import probability


def recluster_scope(pending: set[int], ids: np.ndarray, a: np.ndarray, b: np.ndarray, links: Mapping[int, int]) -> set[int]:
    """The records to re-cluster: the pending ones, those they may link with (rows ``a``/``b`` of
    ``ids``: the pairs reaching review), and every record of those records' current persons (a
    record drags its old person along)."""
    touched = pending | set(ids[a].tolist()) | set(ids[b].tolist())
    members: dict[int, set[int]] = defaultdict(set)
    for record, person in links.items():
        members[person].add(record)
    scope = set(touched)
    for record in touched:
        if record in links:
            scope |= members[links[record]]
    return scope


class PersonEvent(NamedTuple):
    """A change of persons: ``before`` are persons of the index (ids), ``after`` clusters (indexes).

    Named tuples, as ``LinkAssignment``: a first run plans one per person and record, and a frozen
    dataclass costs several times as much to make."""

    kind: str  # create | merge | move | split
    before: tuple[int, ...]
    after: tuple[int, ...]
    records: int
    reason: str


class LinkAssignment(NamedTuple):
    """One record's link: its cluster, how it joined it, and whether it was linked before."""

    record: int
    cluster: int
    status: str  # auto | manual | single | review
    score: float | None
    relinked: bool


@dataclass
class AssignmentPlan:
    """Which person each cluster becomes, and the events and links that says."""

    kept: dict[int, int]  # cluster index → the person of the index it keeps
    new: list[int]  # cluster indexes that become new persons
    events: list[PersonEvent] = field(default_factory=list)
    links: list[LinkAssignment] = field(default_factory=list)
    retired: set[int] = field(default_factory=set)  # persons no cluster kept
    created: int = 0
    merged: int = 0
    split: int = 0


def plan_assignment(result: Clustering, links: Mapping[int, int], still_linked: Set[int] = frozenset()) -> AssignmentPlan:
    """Give each cluster a person: the old one it overlaps most (ties: the older person), else a
    new one. ``links`` maps each record linked before to its person; ``still_linked``: persons
    that records left out of ``result`` stay linked to, so none of them is retired."""
    kept = _keepers(result, links)
    plan = AssignmentPlan(kept=kept, new=[index for index in range(len(result.clusters)) if index not in kept])
    for index, records in enumerate(result.clusters):
        owner = kept.get(index)
        linked = {links[r] for r in records if r in links} if links else set()  # a first run: none
        if owner is None:
            plan.created += 1
            if not linked:
                plan.events.append(PersonEvent("create", (), (index,), len(records), "new records"))
        predecessors = sorted(linked - {owner})
        if predecessors:
            before = (*predecessors, owner) if owner is not None else tuple(predecessors)
            plan.events.append(
                PersonEvent("merge" if owner is not None else "move", before, (index,), len(records), "linkage evidence")
            )
            plan.merged += len(predecessors)
    clusters_of_old = _clusters_of_old(result, links)
    for old, indexes in clusters_of_old.items():
        if len(indexes) > 1:
            plan.split += 1
            moved = sum(len(result.clusters[i]) for i in indexes)
            plan.events.append(PersonEvent("split", (old,), tuple(sorted(indexes)), moved, "records no longer link"))
    plan.links = _link_assignments(result, links)
    plan.retired = set(clusters_of_old) - set(kept.values()) - still_linked
    return plan


def _keepers(result: Clustering, links: Mapping[int, int]) -> dict[int, int]:
    """Cluster index → old person, greedily by overlap (most records first, then the older person)."""
    overlaps = []
    for index, records in enumerate(result.clusters if links else ()):  # a first run keeps no one
        counts = Counter(links[r] for r in records if r in links)
        overlaps += [(count, -person, index, person) for person, count in counts.items()]
    kept: dict[int, int] = {}
    taken: set[int] = set()
    for _count, _older, index, person in sorted(overlaps, reverse=True):
        if index not in kept and person not in taken:
            kept[index] = person
            taken.add(person)
    return kept


def _clusters_of_old(result: Clustering, links: Mapping[int, int]) -> dict[int, set[int]]:
    """Old person → the clusters its records are in now."""
    clusters: dict[int, set[int]] = defaultdict(set)
    for index, records in enumerate(result.clusters if links else ()):
        for r in records:
            if r in links:
                clusters[links[r]].add(index)
    return clusters


def _link_assignments(result: Clustering, links: Mapping[int, int]) -> list[LinkAssignment]:
    """One link per record: status and score of how it joined its cluster."""
    review_records = {r for a, b, _w in result.review_pairs for r in (a, b)}
    assignments = []
    for index, records in enumerate(result.clusters):
        if len(records) == 1:
            record = records[0]
            status = "review" if record in review_records else "single"
            assignments.append(LinkAssignment(record, index, status, None, record in links))
            continue
        for record in records:
            weight = result.join_weight.get(record)
            status, score = ("auto", round(probability(weight), 4)) if weight is not None else ("manual", None)
            assignments.append(LinkAssignment(record, index, status, score, record in links))
    return assignments
