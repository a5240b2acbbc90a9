"""Erasure and retention: a record removed everywhere in the hub, its person with its last record.

What goes: the record (case data, encodings, its rows of the index snapshot), its links, review items, dated events and the
transfers addressed to it, the documents held for collection addressed to it or drawn from it
(``hub_db.collection``), the person when no record of it is left, and that person's pseudonym
from the link history (events keep their shape, the pseudonym becomes "erased"). What stays: one
"erase" event saying that an erasure happened, with no record id and no pseudonym, and an entry
of the audit log's change channel naming the erased records by keyed token only. The audit log
is not rewritten: it never held a record id in clear (``hub_db.audit_log`` says why that is
enough), and its own retention ends what it keeps. Delivered files in the source's archive/ and
failed/ may still hold the row in clear, and the outbox may hold documents addressed to it: the
caller removes them (pipeline/erasure.py, pipeline/copies.py). The audit entry names the
tombstone of the erasure ledger that records the erasure (``ledger_sequence``); how far the
database follows that ledger is ``hub_db.erasure_state``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from kim_hub.hub_db import index_snapshot
from kim_hub.hub_db.audit_log import append, record_objects
from kim_hub.hub_db.collection import forget_records as forget_held
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
    removed: Mapping[str, int] = field(default_factory=dict)  # rows removed per kind: what a tombstone counts


def erase_records(session: Session, record_pks: list[int], reason: str, sequence: int | None = None) -> ErasureOutcome:
    """Erase these records (primary keys) and every person left without records (caller commits).

    Any number of records: the statements go in chunks of ``IN_CHUNK`` keys (``hub_db.in_lists``).
    ``sequence``: the erasure ledger's tombstone of this erasure, named in its audit entry.
    """
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
    removed = dict.fromkeys(("records", "persons", "links", "events", "review_items", "transfers"), 0)
    forget_held(session, record_pks)  # documents held for collection: addressed to them, or drawing on them
    for chunk in chunks:
        for kind, table, column in (
            ("review_items", ReviewItem, ReviewItem.record_a),
            ("review_items", ReviewItem, ReviewItem.record_b),
            ("events", RecordEvent, RecordEvent.record_id),
            ("transfers", Transfer, Transfer.recipient_record),
            ("links", Link, Link.record_id),
            ("queue", LinkQueueEntry, LinkQueueEntry.record_id),
        ):
            deleted = cast(CursorResult[tuple[()]], session.execute(delete(table).where(column.in_(chunk))))
            if kind in removed:
                removed[kind] += max(deleted.rowcount, 0)
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
    removed.update(records=len(erased), persons=len(orphans))
    session.add(LinkEvent(kind="erase", before=[], after=[], records=count, reason=reason[:200]))
    detail: dict[str, object] = {"records": count, "persons": len(orphans), "reason": reason[:200]}
    if sequence is not None:
        detail["ledger_sequence"] = sequence
    append(session, "change", "erase.records", record_objects(session, erased), detail)
    return ErasureOutcome(records_erased=count, persons_erased=len(orphans), erased=tuple(erased), removed=removed)


def record_key(session: Session, source: str, record_id: str) -> list[int]:
    """The primary key of one record by its source and stored id (none for an unknown record)."""
    pk = session.execute(
        select(SourceRecord.id).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
    ).scalar_one_or_none()
    return [pk] if pk is not None else []


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
