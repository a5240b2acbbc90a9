"""What the hub sent to whom, and the append-only audit trail.

A transfer row per summary or notice sent to one recipient record, with the content hash that
makes re-runs send nothing new. Every transfer, withdrawal notice, review decision and erasure
also goes to the audit table, which is only ever appended to — pseudonymous facts, no identity.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kim_hub.exchange.push_plan import PreviousTransfer
from kim_hub.exchange.summary import HeldRecord
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.models import AuditEntry, Link, Person, SourceRecord, Transfer


def audit(session: Session, kind: str, **detail: object) -> None:
    session.add(AuditEntry(kind=kind, detail=detail))


def persons_with_records(session: Session, minimum: int = 2) -> dict[int, list[tuple[int, HeldRecord]]]:
    """Person id → its records (primary key, held record), for persons with ``minimum``+ records."""
    rows = session.execute(
        select(Link.person_id, SourceRecord.id, SourceRecord.source, SourceRecord.record_id, SourceRecord.case_data).join(
            SourceRecord, SourceRecord.id == Link.record_id
        )
    ).all()
    persons: dict[int, list[tuple[int, HeldRecord]]] = defaultdict(list)
    for person, pk, source, record_id, case in rows:
        persons[person].append((pk, HeldRecord(source, record_id, case, pk)))
    return {p: records for p, records in persons.items() if len(records) >= minimum}


def pseudonyms(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Person.id, Person.pseudonym)).all())


def last_transfers(session: Session) -> dict[int, PreviousTransfer]:
    """Each recipient record's last transfer (kind, content hash, the records it drew on)."""
    latest = select(func.max(Transfer.id)).group_by(Transfer.recipient_record).scalar_subquery()
    query = select(Transfer.recipient_record, Transfer.kind, Transfer.content_hash, Transfer.origins).where(
        Transfer.id.in_(latest)
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
) -> None:
    """A delivered document: the transfer row (for change detection) and its audit entry (which
    categories, on which consents — source, purpose, evidence reference — and the content hash)."""
    consents = consents or []
    consent_of = sorted({c["source"] for c in consents})
    session.add(
        Transfer(
            recipient_record=recipient_pk,
            recipient_source=recipient.source,
            kind=kind,
            content_hash=content_hash,
            consent_of=consent_of,
            origins=origins or [],
        )
    )
    audit(
        session,
        {"summary": "transfer", "withdrawal": "withdrawal_notice"}.get(kind, f"{kind}_notice"),
        recipient=recipient.source,
        recipient_record=recipient.record_id,
        categories=sorted({category for c in consents for category in c["categories"]}),
        consents=consents,
        content_hash=content_hash,
    )


def existing_records(session: Session, keys: set[int]) -> set[int]:
    """Which of these record keys still exist (the others were erased)."""
    found: set[int] = set()
    for chunk in chunked(sorted(keys)):
        found.update(session.execute(select(SourceRecord.id).where(SourceRecord.id.in_(chunk))).scalars())
    return found
