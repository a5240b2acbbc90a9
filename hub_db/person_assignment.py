"""Turning a clustering into persons and links: who keeps which pseudonym, what was merged or split.

Pseudonyms are random and stable: a re-clustered group keeps the pseudonym of the old person it
overlaps most, a group with no predecessor gets a new one, and every create, merge, move and
split is recorded as an event with before, after and reason. Rows are written in bulk (one
statement per kind of row): a first run over a large index creates hundreds of thousands of
persons and links, which one ORM object each would take minutes to flush.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict

from sqlalchemy import Executable, func, select, update
from sqlalchemy.orm import Session

from kim_hub.hub_db.bulk_insert import WRITE_CHUNK, DriverInsert, insert_rows
from kim_hub.hub_db.models import Link, LinkEvent, Person
from kim_hub.linkage.cluster import Clustering
from kim_hub.linkage.estimate import probability

IN_CHUNK = 1000  # bound parameters per IN (...): PostgreSQL allows 65,535 per statement


def chunked(values: list, size: int = IN_CHUNK) -> list[list]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def new_pseudonym() -> str:
    """A random person pseudonym: carries nothing of the person, so it can be shown anywhere."""
    return "P-" + secrets.token_hex(6).upper()


def assign_persons(session: Session, result: Clustering, links: dict[int, int], model_version: int) -> tuple[int, int, int]:
    """Give each cluster a person: the old one it overlaps most, else a new pseudonym.

    Returns (persons created, persons merged away, persons split)."""
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

    clusters_of_old: dict[int, set[int]] = defaultdict(set)
    for index, records in enumerate(result.clusters):
        for r in records:
            if r in links:
                clusters_of_old[links[r]].add(index)
    pseudonyms = _pseudonyms_of(session, sorted(clusters_of_old))
    newcomers = [index for index in range(len(result.clusters)) if index not in owner_of_cluster]
    fresh = [new_pseudonym() for _ in newcomers]
    new_ids = _insert_persons(session, fresh)
    person_of_cluster = dict(owner_of_cluster) | dict(zip(newcomers, new_ids))
    pseudonyms.update(zip(new_ids, fresh))

    events = DriverInsert(session, LinkEvent.__table__)
    now = _utcnow()  # one time for the run's events
    created = merged = split = 0
    for index, records in enumerate(result.clusters):
        person_id = person_of_cluster[index]
        kept = index in owner_of_cluster
        if not kept:
            created += 1
            if not any(r in links for r in records):
                events.append(_event("create", [], [pseudonyms[person_id]], len(records), "new records", model_version, now))
        predecessors = sorted({links[r] for r in records if r in links} - {person_id})
        if predecessors:
            before = [pseudonyms[p] for p in predecessors] + ([pseudonyms[person_id]] if kept else [])
            events.append(
                _event(
                    "merge" if kept else "move",
                    before,
                    [pseudonyms[person_id]],
                    len(records),
                    "linkage evidence",
                    model_version,
                    now,
                )
            )
            merged += len(predecessors)
    for old, indexes in clusters_of_old.items():
        if len(indexes) > 1:
            split += 1
            after = sorted({pseudonyms[person_of_cluster[i]] for i in indexes})
            records = sum(len(result.clusters[i]) for i in indexes)
            events.append(_event("split", [pseudonyms[old]], after, records, "records no longer link", model_version, now))
    events.flush()
    _write_links(session, result, person_of_cluster, links)
    retired = set(clusters_of_old) - taken
    for chunk in chunked(sorted(retired)):
        session.execute(update(Person).where(Person.id.in_(chunk)).values(retired_at=_utcnow()))
    return created, merged, split


def _pseudonyms_of(session: Session, person_ids: list[int]) -> dict[int, str]:
    if len(person_ids) > 50 * IN_CHUNK:  # most of the index: one scan beats many IN lists
        return dict(session.execute(select(Person.id, Person.pseudonym)).all())
    found: dict[int, str] = {}
    for chunk in chunked(person_ids):
        found.update(session.execute(select(Person.id, Person.pseudonym).where(Person.id.in_(chunk))).all())
    return found


def _insert_persons(session: Session, pseudonyms: list[str]) -> list[int]:
    """Insert persons; their ids in the order given.

    One executemany, then the ids looked up by their (unique) pseudonyms: INSERT … RETURNING
    in parameter order runs row by row on SQLite, several times slower for a first run's
    hundreds of thousands of persons. Many new persons are read back in one scan of the ids
    above the highest before the insert; any not found there, by their pseudonyms."""
    if not pseudonyms:
        return []
    now = _utcnow()
    highest_before = session.execute(select(func.max(Person.id))).scalar() or 0
    insert_rows(session, Person.__table__, ({"pseudonym": p, "created_at": now} for p in pseudonyms))
    id_of: dict[str, int] = {}
    if len(pseudonyms) > 50 * IN_CHUNK:
        wanted = set(pseudonyms)
        scan = session.execute(select(Person.id, Person.pseudonym).where(Person.id > highest_before))
        id_of.update((p, i) for i, p in scan if p in wanted)
    for chunk in chunked([p for p in pseudonyms if p not in id_of]):
        id_of.update(
            (p, i) for i, p in session.execute(select(Person.id, Person.pseudonym).where(Person.pseudonym.in_(chunk))).all()
        )
    return [id_of[p] for p in pseudonyms]


def _event(
    kind: str, before: list[str], after: list[str], records: int, reason: str, model_version: int, now: dt.datetime
) -> dict:
    return {
        "kind": kind,
        "before": before,
        "after": after,
        "records": records,
        "reason": reason,
        "model_version": model_version,
        "created_at": now,
    }


def _write_links(session: Session, result: Clustering, person_of_cluster: dict[int, int], links: dict[int, int]) -> None:
    """One link per record: status and score of how it joined its cluster."""
    review_records = {r for a, b, _w in result.review_pairs for r in (a, b)}
    now = _utcnow()
    new = DriverInsert(session, Link.__table__)
    changed = _BatchedRows(session, update(Link))  # ORM bulk update by primary key
    for index, records in enumerate(result.clusters):
        person_id = person_of_cluster[index]
        for record in records:
            if len(records) == 1:
                status, score = ("review" if record in review_records else "single"), None
            else:
                weight = result.join_weight.get(record)
                status, score = ("auto", round(probability(weight), 4)) if weight is not None else ("manual", None)
            row = {"record_id": record, "person_id": person_id, "status": status, "score": score, "updated_at": now}
            (changed if record in links else new).append(row)
    new.flush()
    changed.flush()


class _BatchedRows:
    """Rows for one statement, executed as one executemany every WRITE_CHUNK rows (no per-row ORM work)."""

    def __init__(self, session: Session, statement: Executable) -> None:
        self.session, self.statement, self.rows = session, statement, []

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= WRITE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.session.execute(self.statement, self.rows)
            self.rows = []


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
