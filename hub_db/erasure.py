"""Erasure and retention: a record removed everywhere in the hub, its person with its last record.

What goes: the record (case data, encodings, its rows of the index snapshot), its links, review items, dated events and the
transfers addressed to it, the person when no record of it is left, and that person's pseudonym
from the link history (events keep their shape, the pseudonym becomes "erased"). What stays: one
"erase" event saying that an erasure happened, with no record id and no pseudonym, and an entry
of the audit log's change channel naming the erased records by keyed token only. The audit log
is not rewritten: it never held a record id in clear (``hub_db.audit_log`` says why that is
enough), and its own retention ends what it keeps. Delivered files in the source's archive/ and
failed/ may still hold the row in clear, and the outbox may hold documents addressed to it: the
caller removes them (pipeline/erasure.py, pipeline/copies.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kim_hub.hub_db import index_snapshot
from kim_hub.hub_db.audit_log import append, record_objects
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.models import (
    Link,
    LinkEvent,
    LinkQueueEntry,
    Person,
    RecordEvent,
    ReviewItem,
    SourceRecord,
    Transfer,
    table_of,
)

ERASED = "erased"


@dataclass(frozen=True)
class ErasureOutcome:
    records_erased: int = 0
    persons_erased: int = 0
    erased: tuple[tuple[str, str], ...] = ()  # (source, record id) of each erased record, for the outboxes


def erase_records(session: Session, record_pks: list[int], reason: str) -> ErasureOutcome:
    """Erase these records (primary keys) and every person left without records (caller commits).
    Any number of records: the statements go in chunks of ``IN_CHUNK`` keys (``hub_db.in_lists``)."""
    if not record_pks:
        return ErasureOutcome()
    hold(session, LINKING)  # a linking run must not link what is being erased
    chunks = chunked(sorted(set(record_pks)))
    persons: set[int] = set()
    erased: list[tuple[str, str]] = []
    for chunk in chunks:
        persons.update(session.execute(select(Link.person_id).where(Link.record_id.in_(chunk))).scalars())
        query = select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_(chunk))
        erased += [(source, record_id) for source, record_id in session.execute(query)]
    for chunk in chunks:
        for table, column in (
            (ReviewItem, ReviewItem.record_a),
            (ReviewItem, ReviewItem.record_b),
            (RecordEvent, RecordEvent.record_id),
            (Transfer, Transfer.recipient_record),
            (Link, Link.record_id),
            (LinkQueueEntry, LinkQueueEntry.record_id),
        ):
            session.execute(delete(table).where(column.in_(chunk)))
        session.execute(delete(SourceRecord).where(SourceRecord.id.in_(chunk)))
    index_snapshot.forget(session, record_pks)  # the columnar copy of their encodings goes too
    still_linked: set[int] = set()
    for chunk in chunked(sorted(persons)):
        linked = select(Link.person_id).where(Link.person_id.in_(chunk)).group_by(Link.person_id)
        still_linked.update(session.execute(linked).scalars())
    orphans = persons - still_linked
    if orphans:
        _forget_pseudonyms(session, orphans)
    count = sum(len(chunk) for chunk in chunks)
    session.add(LinkEvent(kind="erase", before=[], after=[], records=count, reason=reason[:200]))
    append(
        session,
        "change",
        "erase.records",
        record_objects(session, erased),
        {"records": count, "persons": len(orphans), "reason": reason[:200]},
    )
    return ErasureOutcome(records_erased=count, persons_erased=len(orphans), erased=tuple(erased))


def erase_record(session: Session, source: str, record_id: str, reason: str = "erasure request") -> ErasureOutcome:
    """Erase one record by its source and local id; an unknown record erases nothing."""
    pk = session.execute(
        select(SourceRecord.id).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
    ).scalar_one_or_none()
    return erase_records(session, [pk] if pk is not None else [], reason)


def expired_records(session: Session, source: str, retention_days: float, today: dt.date | None = None) -> list[int]:
    """Records of closed cases whose closure is older than the source's retention period."""
    cutoff = (today or dt.date.today()) - dt.timedelta(days=retention_days)
    rows = session.execute(select(SourceRecord.id, SourceRecord.case_data).where(SourceRecord.source == source)).all()
    expired = []
    for pk, case in rows:
        closed = case.get("case_closed")
        if case.get("case_status") == "closed" and closed and dt.date.fromisoformat(closed) < cutoff:
            expired.append(pk)
    return expired


def _forget_pseudonyms(session: Session, person_ids: set[int]) -> None:
    chunks = chunked(sorted(person_ids))
    pseudonyms: set[str] = set()
    for chunk in chunks:
        pseudonyms.update(session.execute(select(Person.pseudonym).where(Person.id.in_(chunk))).scalars())
    for event in session.execute(select(LinkEvent)).scalars():
        before = [ERASED if p in pseudonyms else p for p in event.before]
        after = [ERASED if p in pseudonyms else p for p in event.after]
        if before != event.before or after != event.after:
            event.before, event.after = before, after
    for chunk in chunks:
        session.execute(table_of(Person).update().where(Person.merged_into.in_(chunk)).values(merged_into=None))
    for chunk in chunks:
        session.execute(delete(Person).where(Person.id.in_(chunk)))
