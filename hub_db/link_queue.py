"""The queue of records waiting for linking: filled by imports, decisions and re-estimation,
emptied by the link run that links them (in the same transaction as their links)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Table, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kim_hub.hub_db.bulk_insert import insert_rows
from kim_hub.hub_db.models import LinkQueueEntry, SourceRecord, table_of

_QUEUE = table_of(LinkQueueEntry)
_INSERT_IGNORING_QUEUED: dict[str, Callable[[Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def enqueue(session: Session, record_pks: Iterable[int]) -> None:
    """Queue records for the next link run; a record already waiting stays queued once."""
    rows = [{"record_id": pk} for pk in sorted(set(record_pks))]
    if rows:
        statement = _INSERT_IGNORING_QUEUED[session.get_bind().dialect.name](_QUEUE).on_conflict_do_nothing()
        session.execute(statement, rows)


def enqueue_new(session: Session, record_pks: Iterable[int]) -> None:
    """Queue records that were just inserted (none of them can be waiting yet): a plain insert."""
    insert_rows(session, _QUEUE, ({"record_id": pk} for pk in record_pks))


def enqueue_all(session: Session) -> None:
    """Queue every stored record (a re-estimation that re-links the whole index)."""
    session.execute(delete(_QUEUE))
    session.execute(insert(_QUEUE).from_select(["record_id"], select(SourceRecord.id)))


def waiting(session: Session) -> set[int]:
    """Primary keys of the records waiting for linking (a first run: a million; read past the
    ORM's row handling, which would double the time)."""
    return set(session.connection().execute(select(LinkQueueEntry.record_id)).scalars())


def dequeue(session: Session, record_pks: Iterable[int]) -> None:
    """Take linked records (read from the queue in this transaction) off the queue.

    When they are all the queue holds, as after a link run (every enqueuer takes the linking
    lock the run holds), one DELETE (far faster than a million-row executemany); else one executemany."""
    pks = set(record_pks)
    if not pks:
        return
    if session.execute(select(func.count()).select_from(_QUEUE)).scalar_one() == len(pks):
        session.execute(delete(_QUEUE))
        return
    session.execute(delete(_QUEUE).where(_QUEUE.c.record_id == bindparam("pk")), [{"pk": pk} for pk in sorted(pks)])
