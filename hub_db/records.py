"""Storing pseudonymised source records and the file ledger, one file per transaction.

A file's records, its rejected rows and its ledger entry are written in one transaction: a crash
leaves either all of them or none, and the ledger (keyed by the file's content hash) makes the
re-run skip a file that did land. An unchanged row (same keyed content hash) changes nothing; a
changed row replaces the stored one and is queued for re-linking.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from kim_hub.core.rows import FileBatch, Located, Note, Rejection
from kim_hub.hub_db.bulk_insert import insert_rows
from kim_hub.hub_db.index_changes import mark_inserted
from kim_hub.hub_db.link_queue import enqueue, enqueue_new
from kim_hub.hub_db.models import IngestFile, RecordEvent, RejectedRow, RowNote, SourceRecord, table_of
from kim_hub.hub_db.row_ids import reserve_ids
from kim_hub.linkage.pseudonymise import PseudonymisedRecord

LOOKUP_CHUNK = 500
WRITE_CHUNK_ROWS = 5000  # rejections or notes per INSERT


@dataclass(frozen=True)
class FileOutcome:
    """What became of one delivered file."""

    source: str
    file_name: str
    status: str  # done | rejected | skipped | failed (set aside, nothing stored)
    rows_total: int = 0
    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    ledger_id: int | None = None


def ledger_entry(session: Session, source: str, content_hash: str) -> IngestFile | None:
    """The ledger entry of this exact file content for this source, if it was ingested before."""
    query = select(IngestFile).where(IngestFile.source == source, IngestFile.content_hash == content_hash)
    return session.execute(query).scalar_one_or_none()


def notes_of(session: Session, ledger_id: int) -> list[Note]:
    """The stored notes of one file, in row order (for its receipt)."""
    query = select(RowNote).where(RowNote.file_id == ledger_id).order_by(RowNote.row_number, RowNote.id)
    return [Note(n.file_name, n.row_number, n.field, n.reason) for n in session.execute(query).scalars()]


def rejections_of(session: Session, ledger_id: int) -> list[Rejection]:
    """The stored rejections of one file, in row order (for its receipt)."""
    query = select(RejectedRow).where(RejectedRow.file_id == ledger_id).order_by(RejectedRow.row_number, RejectedRow.id)
    return [Rejection(r.file_name, r.row_number, r.field, r.reason) for r in session.execute(query).scalars()]


def store_file(
    session: Session,
    source: str,
    file_name: str,
    batch: FileBatch,
    records: Iterable[Sequence[PseudonymisedRecord]],
    rejections: Sequence[Rejection],
    notes: Sequence[Note] = (),
) -> FileOutcome:
    """Write one file's records, rejections, notes and ledger entry (the caller commits).

    ``batch`` is what the connector read (content hash, row count and unknown columns, complete
    once the records are taken, and whether the file is rejected whole); ``records`` come in chunks, stored as they come (they may
    still be being encoded); ``rejections`` (the batch's and the mapping's) and ``notes`` (of
    the rows that landed) are read only after the last chunk, so lists the encoder fills as it
    goes are complete by then."""
    rejected_whole = batch.rejected_whole
    ledger = IngestFile(
        source=source,
        file_name=file_name,
        content_hash=batch.content_hash,
        status="rejected" if rejected_whole else "done",
        unknown_columns=list(batch.unknown_columns),
    )
    session.add(ledger)
    session.flush()
    accepted = unchanged = 0
    # a source's first delivery (every source of a first import): its rows can only meet rows of
    # this same file, so only those are looked up (2,000 lookups of 500 found nothing in a million)
    stored_by_this_file: set[str] | None = set() if _holds_nothing(session, source) else None
    for chunk in records:
        if chunk and not rejected_whole:
            added, same = _upsert(session, chunk, ledger.id, stored_by_this_file)
            accepted, unchanged = accepted + added, unchanged + same
    rows_total = batch.rows_total  # complete only now: the batch's rows may have been a stream
    ledger.unknown_columns = list(batch.unknown_columns)
    rejected_rows = {r.row for r in rejections if r.row is not None}
    _store_located(session, RejectedRow, rejections, ledger.id, source, file_name)
    if not rejected_whole:
        _store_located(session, RowNote, notes, ledger.id, source, file_name)
        ledger.rows_noted = len({note.row for note in notes if note.row is not None})
    ledger.rows_total = rows_total
    ledger.rows_accepted = accepted
    ledger.rows_unchanged = unchanged
    ledger.rows_rejected = rows_total if rejected_whole else len(rejected_rows)
    return FileOutcome(source, file_name, ledger.status, rows_total, accepted, unchanged, ledger.rows_rejected, ledger.id)


def _store_located(
    session: Session,
    table: type[RejectedRow] | type[RowNote],
    problems: Sequence[Located],
    file_id: int,
    source: str,
    file_name: str,
) -> None:
    """Rejections or notes of a file, inserted in bulk: a big delivery may have one per row."""
    rows = (
        {
            "file_id": file_id,
            "source": source,
            "file_name": file_name,
            "row_number": p.row,
            "field": p.field,
            "reason": p.reason[:300],
        }
        for p in problems
    )
    while chunk := list(islice(rows, WRITE_CHUNK_ROWS)):
        session.execute(insert(table), chunk)


def _holds_nothing(session: Session, source: str) -> bool:
    """No record of ``source`` is stored."""
    return session.execute(select(SourceRecord.id).where(SourceRecord.source == source).limit(1)).first() is None


def _upsert(
    session: Session, records: Sequence[PseudonymisedRecord], file_id: int, stored_by_this_file: set[str] | None = None
) -> tuple[int, int]:
    """Insert new records, replace changed ones; returns (accepted incl. changed, unchanged).
    ``stored_by_this_file``: when the source held nothing before this file, the record ids its
    earlier chunks stored (the only ones stored already; kept up to date here), else None.

    A row older than the one held changes nothing of the record, but the dated events it carries
    are history and are kept (a death message delivered after a later correction).

    Rows go in with one statement per kind (insert, update, events) rather than one ORM object
    each: a nightly export of 100,000 rows would otherwise spend most of its time in the flush.
    """
    existing: dict[tuple[str, str], tuple[int, str, dict[str, Any]]] = {}
    columns = (SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.content_hash, SourceRecord.case_data)
    stored_before = records if stored_by_this_file is None else [r for r in records if r.record_id in stored_by_this_file]
    for start in range(0, len(stored_before), LOOKUP_CHUNK):
        chunk = stored_before[start : start + LOOKUP_CHUNK]
        ids = [r.record_id for r in chunk]
        query = select(*columns).where(SourceRecord.source == chunk[0].source, SourceRecord.record_id.in_(ids))
        for pk, source, record_id, content_hash, case_data in session.execute(query).all():
            existing[(source, record_id)] = (pk, content_hash, case_data)
    accepted = unchanged = 0
    fresh: dict[tuple[str, str], tuple[dict[str, Any], tuple[dict[str, Any], ...]]] = {}  # the row, its events
    changed: list[dict[str, Any]] = []
    events: list[tuple[int, tuple[dict[str, Any], ...]]] = []  # of changed rows, and of older rows (their state is not taken)
    now = dt.datetime.now(dt.UTC)
    for record in records:
        key = (record.source, record.record_id)
        stored = existing.get(key)
        if stored is not None and (stored[1] == record.content_hash or _is_stale(stored[2], record)):
            unchanged += 1  # the same row again, or an older state replayed after a newer one
            if stored[1] != record.content_hash:
                events.append((stored[0], record.events))
            continue
        values = {
            "encoding": record.encoding,
            "key_id": record.key_id,
            "content_hash": record.content_hash,
            "file_id": file_id,
            "updated_at": now,
        }
        accepted += 1
        if stored is None:  # the case data as the text its column stores (DriverInsert's json_text)
            row = {"source": record.source, "record_id": record.record_id, "created_at": now, "case_data": record.case_json}
            fresh[key] = ({**row, **values}, record.events)
        else:
            changed.append({"id": stored[0], "case_data": record.case_data, **values})
            events.append((stored[0], record.events))
    if changed:
        session.execute(update(SourceRecord), changed)
    rows = [row for row, _events in fresh.values()]
    new_ids = reserve_ids(session, table_of(SourceRecord), len(rows))
    for pk, row in zip(new_ids, rows):
        row["id"] = pk
    insert_rows(session, table_of(SourceRecord), rows, json_text=("case_data",))
    if rows:
        mark_inserted(session)  # what a trigger per row did (migration 0018)
    if stored_by_this_file is not None:
        stored_by_this_file.update(row["record_id"] for row in rows)
    enqueue_new(session, new_ids)
    enqueue(session, [row["id"] for row in changed])
    _add_events(session, [(pk, events) for pk, (_row, events) in zip(new_ids, fresh.values())], new=True)
    _add_events(session, events, new=False)  # a death reported late is still a death
    return accepted, unchanged


def _add_events(session: Session, stored: list[tuple[int, tuple[dict[str, Any], ...]]], new: bool) -> None:
    """The dated events stored rows carry (record, its case data's events), each (record, kind,
    day) once; ``new``: the records were just inserted, so none of their events can be in the table yet."""
    wanted: dict[tuple[int, str, dt.date], dict[str, Any]] = {}
    for pk, events in stored:
        for event in events:
            key = (pk, event["kind"], dt.date.fromisoformat(event["on"]))
            wanted.setdefault(key, _event_detail(event))
    if not wanted:
        return
    if not new:
        pks = sorted({pk for pk, _kind, _on in wanted})
        for start in range(0, len(pks), LOOKUP_CHUNK):
            query = select(RecordEvent.record_id, RecordEvent.kind, RecordEvent.occurred_on).where(
                RecordEvent.record_id.in_(pks[start : start + LOOKUP_CHUNK])
            )
            for record_pk, kind, occurred_on in session.execute(query).all():
                wanted.pop((record_pk, kind, occurred_on), None)
    if wanted:
        now = dt.datetime.now(dt.UTC)
        rows = (
            {"record_id": pk, "kind": kind, "occurred_on": on, "detail": detail, "created_at": now}
            for (pk, kind, on), detail in wanted.items()
        )
        insert_rows(session, table_of(RecordEvent), rows)


def _event_detail(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("kind", "on") and v is not None}


def add_event(session: Session, record_pk: int, kind: str, on: dt.date, detail: dict[str, Any] | None = None) -> bool:
    """Record a dated event once (the same kind on the same day for a record is one event)."""
    query = select(RecordEvent.id).where(
        RecordEvent.record_id == record_pk, RecordEvent.kind == kind, RecordEvent.occurred_on == on
    )
    if session.execute(query).first() is not None:
        return False
    session.add(RecordEvent(record_id=record_pk, kind=kind, occurred_on=on, detail=detail or {}))
    return True


def apply_snapshot(session: Session, source: str, present: set[str], on: dt.date) -> tuple[int, int]:
    """A full export lists everyone currently in the source: compare it with what the hub holds.

    A record missing from today's export has left (``abgang``, e.g. no longer in SGB II); one
    that is back after an Abgang re-entered (``zugang``). Neither deletes anything: they are
    dated events of the record's history. Returns (abgang, zugang) counts.
    """
    stored = dict(session.execute(select(SourceRecord.record_id, SourceRecord.id).where(SourceRecord.source == source)).all())
    query = (
        select(RecordEvent.record_id, RecordEvent.kind)
        .join(SourceRecord, SourceRecord.id == RecordEvent.record_id)
        .where(SourceRecord.source == source, RecordEvent.kind.in_(("abgang", "zugang")))
        .order_by(RecordEvent.occurred_on, RecordEvent.id)
    )
    last_kind: dict[int, str] = dict(session.execute(query).all())  # the latest event wins
    gone = back = 0
    for record_id, record_pk in stored.items():
        if record_id not in present and last_kind.get(record_pk) != "abgang":
            gone += add_event(session, record_pk, "abgang", on)
        elif record_id in present and last_kind.get(record_pk) == "abgang":
            back += add_event(session, record_pk, "zugang", on)
    return gone, back


def _is_stale(held_case: dict[str, Any], record: PseudonymisedRecord) -> bool:
    """A row older than what the hub holds (a replayed message, an old file) changes nothing."""
    held, offered = held_case.get("updated_at"), record.updated_at
    return bool(held and offered and offered < held)


def deliveries_by_source(session: Session) -> dict[str, tuple[dict[str, int], dt.datetime | None]]:
    """Per source: how many delivered files the ledger holds by status, and when the last came."""
    query = select(IngestFile.source, IngestFile.status, func.count(), func.max(IngestFile.created_at)).group_by(
        IngestFile.source, IngestFile.status
    )
    found: dict[str, tuple[dict[str, int], dt.datetime | None]] = {}
    for source, status, count, last in session.execute(query).all():
        counts, latest = found.get(source, ({}, None))
        counts[status] = int(count)
        found[source] = (counts, last if latest is None or (last is not None and last > latest) else latest)
    return found
