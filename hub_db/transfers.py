"""What the hub sent to whom.

A transfer row per summary or notice sent to one recipient record, with the content hash that
makes re-runs send nothing new. Every transfer and notice is also an entry of the audit log's
transfer channel (``hub_db.audit_log``), committed with it — pseudonymous facts, no identity.

The exchange's rules read each record with its whole event history (``persons_with_records``): a
stored row carries only the events of the message or export row that last replaced it, so without
the history a death the authority reported would be forgotten as soon as its next message about
the person (a correction) replaced the record, and the job centre's Abgang/Zugang (events of the
snapshot, never of a row) would not be seen at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from kim_hub.exchange.push_plan import PreviousTransfer
from kim_hub.exchange.summary import HeldRecord
from kim_hub.hub_db.audit_log import append_many, record_objects
from kim_hub.hub_db.bulk_insert import insert_rows
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.models import Link, Person, RecordEvent, SourceRecord, Transfer, table_of


def persons_with_records(session: Session, minimum: int = 2) -> dict[int, list[tuple[int, HeldRecord]]]:
    """Person id → its records (primary key, held record), for persons with ``minimum``+ records."""
    rows = session.execute(
        select(Link.person_id, SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.case_data).join(
            SourceRecord, SourceRecord.id == Link.record_id
        )
    ).all()
    history = event_history(session)
    persons: dict[int, list[tuple[int, HeldRecord]]] = defaultdict(list)
    for person, pk, source, record_id, case in rows:
        persons[person].append((pk, HeldRecord(source, record_id, with_history(case, history.get(pk, ())), pk)))
    return {p: records for p, records in persons.items() if len(records) >= minimum}


def held_records(session: Session, keys: Collection[int]) -> dict[int, HeldRecord]:
    """These records (by key) as the exchange's rules read them, with their event history: what
    ``persons_with_records`` holds of them, for a few records (a review decision's preview)."""
    held: dict[int, HeldRecord] = {}
    for chunk in chunked(sorted(keys)):
        history = event_history(session, chunk)
        query = select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.case_data).where(
            SourceRecord.id.in_(chunk)
        )
        for pk, source, record_id, case in session.execute(query):
            held[pk] = HeldRecord(source, record_id, with_history(case, history.get(pk, ())), pk)
    return held


def event_history(session: Session, keys: Collection[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    """Record key → every dated event stored for it (``record_events``), in the shape of the
    events a stored row carries (``kind``, ``on`` as ISO date, and the event's details); with
    ``keys``, of those records only (at most one IN list of them)."""
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = select(RecordEvent.record_id, RecordEvent.kind, RecordEvent.occurred_on, RecordEvent.detail).order_by(
        RecordEvent.occurred_on, RecordEvent.id
    )
    if keys is not None:
        query = query.where(RecordEvent.record_id.in_(list(keys)))
    for record_pk, kind, on, detail in session.execute(query):
        history[record_pk].append({"kind": kind, "on": on.isoformat(), **(detail or {})})
    return history


def with_history(case: dict[str, Any], stored: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The stored row's case data with the record's earlier events added: the row holds only the
    events of whatever replaced it last, the history holds every one (each kind and day once)."""
    carried = list(case.get("events") or ())
    seen = {(event["kind"], event["on"]) for event in carried}
    earlier = [event for event in stored if (event["kind"], event["on"]) not in seen]
    return {**case, "events": [*earlier, *carried]} if earlier else case


def pseudonyms(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Person.id, Person.pseudonym)).all())


def last_transfers(session: Session, recipients: Collection[int] | None = None) -> dict[int, PreviousTransfer]:
    """Each recipient record's last transfer (kind, content hash, the records it drew on); with
    ``recipients``, of those records only."""
    if recipients is not None:
        found: dict[int, PreviousTransfer] = {}
        for chunk in chunked(sorted(recipients)):
            found.update(_last_transfers(session, Transfer.recipient_record.in_(chunk)))
        return found
    return _last_transfers(session, None)


def _last_transfers(session: Session, among: ColumnElement[bool] | None) -> dict[int, PreviousTransfer]:
    latest = select(func.max(Transfer.id)).group_by(Transfer.recipient_record)
    if among is not None:
        latest = latest.where(among)
    query = select(Transfer.recipient_record, Transfer.kind, Transfer.content_hash, Transfer.origins).where(
        Transfer.id.in_(latest.scalar_subquery())
    )
    return {
        recipient: PreviousTransfer(kind, digest, tuple(origins or ()))
        for recipient, kind, digest, origins in session.execute(query)
    }


def record_transfer(
    session: Session,
    recipient_pk: int,
    recipient: HeldRecord,
    kind: str,
    content_hash: str,
    consents: list[dict[str, Any]] | None = None,
    origins: list[int] | None = None,
    origin_ids: Sequence[tuple[str, str]] = (),
) -> None:
    """A delivered document: the transfer row (for change detection) and its audit entry (which
    categories, on which consents — source, purpose, evidence reference — and the content hash;
    its objects: the recipient record and the records it drew on, ``origin_ids``, by token)."""
    record_transfers(session, [DeliveredDocument(recipient_pk, recipient, kind, content_hash, consents, origins, origin_ids)])


@dataclass(frozen=True)
class DeliveredDocument:
    """What ``record_transfer`` records of one delivered document."""

    recipient_pk: int
    recipient: HeldRecord
    kind: str
    content_hash: str
    consents: list[dict[str, Any]] | None = None
    origins: list[int] | None = None
    origin_ids: Sequence[tuple[str, str]] = ()


def record_transfers(session: Session, delivered: Sequence[DeliveredDocument]) -> None:
    """``record_transfer`` for many documents, in order: the transfer rows and their audit
    entries (sealed one after the other into the transfer chain) each in one executemany, not
    an ORM object and a flush per row (a first push sends a document to most records)."""
    if not delivered:
        return
    now = dt.datetime.now(dt.UTC)
    rows, entries = [], []
    for d in delivered:
        consents = d.consents or []
        rows.append(
            {
                "recipient_record": d.recipient_pk,
                "recipient_source": d.recipient.source,
                "kind": d.kind,
                "content_hash": d.content_hash,
                "consent_of": sorted({c["source"] for c in consents}),
                "origins": d.origins or [],
                "created_at": now,
            }
        )
        objects = record_objects(session, [(d.recipient.source, d.recipient.record_id), *d.origin_ids])
        detail = {
            "recipient": d.recipient.source,
            "categories": sorted({category for c in consents for category in c["categories"]}),
            "consents": consents,
            "content_hash": d.content_hash,
        }
        entries.append((transfer_action(d.kind), objects, detail))
    insert_rows(session, table_of(Transfer), rows)
    append_many(session, "transfer", entries)


def transfer_action(kind: str) -> str:
    """The audit action of a transfer kind: transfer.summary, transfer.withdrawal_notice, …"""
    return "transfer.summary" if kind == "summary" else f"transfer.{kind}_notice"


def existing_records(session: Session, keys: set[int]) -> set[int]:
    """Which of these record keys still exist (the others were erased)."""
    found: set[int] = set()
    for chunk in chunked(sorted(keys)):
        found.update(session.execute(select(SourceRecord.id).where(SourceRecord.id.in_(chunk))).scalars())
    return found
