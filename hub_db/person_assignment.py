"""Writing a person assignment: new persons, events with pseudonyms, links, retired persons.

What the clustering means for persons is decided by ``linkage.incremental.plan_assignment``; this
module only writes it. Rows are written in bulk (one statement per kind of row): a first run over
a large index creates hundreds of thousands of persons and links, which one ORM object each would
take minutes to flush.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Set
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from sqlalchemy import Executable, select, update
from sqlalchemy.orm import Session

from kim_hub.hub_db.bulk_insert import WRITE_CHUNK, DriverInsert, insert_rows
from kim_hub.hub_db.in_lists import IN_CHUNK, chunked
from kim_hub.hub_db.models import Link, LinkEvent, Person, table_of
from kim_hub.hub_db.row_ids import reserve_ids
from kim_hub.linkage.cluster import Clustering
from kim_hub.linkage.incremental import AssignmentPlan, plan_assignment


def new_pseudonym() -> str:
    """A random person pseudonym: carries nothing of the person, so it can be shown anywhere."""
    return new_pseudonyms(1)[0]


def new_pseudonyms(count: int) -> list[str]:
    """``count`` pseudonyms (``new_pseudonym``), their random digits drawn in one call (a first
    run over a million records makes half a million: 2 µs each, one by one)."""
    digits = secrets.token_hex(6 * count).upper()
    return ["P-" + digits[start : start + 12] for start in range(0, 12 * count, 12)]


def assign_persons(
    session: Session, result: Clustering, links: dict[int, int], model_version: int, still_linked: Set[int] = frozenset()
) -> tuple[int, int, int]:
    """Give each cluster its person (``plan_assignment``; ``still_linked`` as there) and write it.

    Returns (persons created, persons merged away, persons split)."""
    plan = plan_assignment(result, links, still_linked)
    pseudonyms = _pseudonyms_of(
        session, sorted({person for event in plan.events for person in event.before} | set(plan.kept.values()))
    )
    fresh = new_pseudonyms(len(plan.new))
    new_ids = _insert_persons(session, fresh)
    person_of_cluster = dict(plan.kept) | dict(zip(plan.new, new_ids, strict=True))
    pseudonyms.update(zip(new_ids, fresh, strict=True))
    _write_events(session, plan, person_of_cluster, pseudonyms, model_version)
    _write_links(session, plan, person_of_cluster)
    for chunk in chunked(sorted(plan.retired)):
        session.execute(update(Person).where(Person.id.in_(chunk)).values(retired_at=_utcnow()))
    return plan.created, plan.merged, plan.split


def _write_events(
    session: Session, plan: AssignmentPlan, person_of_cluster: dict[int, int], pseudonyms: dict[int, str], model_version: int
) -> None:
    columns = ["kind", "before", "after", "records", "reason", "model_version", "created_at"]
    events = DriverInsert(session, table_of(LinkEvent)).prepare(columns)
    now = _utcnow()  # one time for the run's events
    nobody: list[str] = []  # one object for every event without persons before: converted once (bulk_insert)
    for event in plan.events:
        before = [pseudonyms[person] for person in event.before] if event.before else nobody
        after = sorted({pseudonyms[person_of_cluster[index]] for index in event.after})
        events.append_values([event.kind, before, after, event.records, event.reason, model_version, now])
    events.flush()


def _pseudonyms_of(session: Session, person_ids: list[int]) -> dict[int, str]:
    if len(person_ids) > 50 * IN_CHUNK:  # most of the index: one scan beats many IN lists
        return dict(session.connection().execute(select(Person.id, Person.pseudonym)).all())  # past the ORM's rows
    found: dict[int, str] = {}
    for chunk in chunked(person_ids):
        found.update(session.execute(select(Person.id, Person.pseudonym).where(Person.id.in_(chunk))).all())
    return found


def _insert_persons(session: Session, pseudonyms: list[str]) -> list[int]:
    """Insert persons; their ids in the order given (taken before the insert: ``hub_db.row_ids``)."""
    ids = reserve_ids(session, table_of(Person), len(pseudonyms))
    now = _utcnow()
    insert_rows(session, table_of(Person), ({"id": i, "pseudonym": p, "created_at": now} for i, p in zip(ids, pseudonyms)))
    return list(ids)


def _write_links(session: Session, plan: AssignmentPlan, person_of_cluster: dict[int, int]) -> None:
    """One link per record: new ones inserted, those of records linked before updated.

    In the order of the records: the links table is stored by record, so rows in cluster order
    landed all over it (a first run's million links took 16 s to write instead of 6)."""
    now = _utcnow()
    new = DriverInsert(session, table_of(Link)).prepare(["record_id", "person_id", "status", "score", "updated_at"])
    changed = _BatchedRows(session, update(Link))  # ORM bulk update by primary key
    with _person_index_built_after(session, len(plan.links)):
        for link in sorted(plan.links, key=attrgetter("record")):
            person = person_of_cluster[link.cluster]
            if link.relinked:
                changed.append(
                    {"record_id": link.record, "person_id": person, "status": link.status, "score": link.score, "updated_at": now}
                )
            else:
                new.append_values([link.record, person, link.status, link.score, now])
        new.flush()
        changed.flush()


FIRST_LINKS_INDEXED_AFTER = 100_000


@contextmanager
def _person_index_built_after(session: Session, links: int) -> Iterator[None]:
    """A first run's many links written with the links' person index made afterwards, in the same
    transaction: one sort instead of an insert into the index for every link, each at a random
    place (a million links: 5.1–6.4 s written with the index, 4.3–4.5 s with it made after,
    benchmarks/README.md). Only into an empty table, where no reader can miss the index meanwhile."""
    person_index = next(index for index in table_of(Link).indexes if list(index.columns) == [table_of(Link).c.person_id])
    if links < FIRST_LINKS_INDEXED_AFTER or session.execute(select(Link.record_id).limit(1)).first() is not None:
        yield
        return
    connection = session.connection()
    person_index.drop(connection)
    yield
    person_index.create(connection)


class _BatchedRows:
    """Rows for one statement, executed as one executemany every WRITE_CHUNK rows (no per-row ORM work)."""

    def __init__(self, session: Session, statement: Executable) -> None:
        self.session, self.statement = session, statement
        self.rows: list[dict[str, Any]] = []

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= WRITE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.session.execute(self.statement, self.rows)
            self.rows = []


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
