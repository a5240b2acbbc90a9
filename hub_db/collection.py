"""Documents held for bodies that collect them over the hub's API, and their acknowledgement.

A body configured with ``summaries = "collect"`` has no outbox: the push hands this module the
documents its plan holds for the body (``hold_documents``), in the same transaction and under the
same push lock, instead of writing files. What the body has not acknowledged is, after every push,
exactly what the push plan holds for it now, so the held documents follow the rules as the outbox
files do: a document no longer due (consent withdrawn, content changed, a notice planned) is taken
back, a document still due keeps its id and cursor.

The transfer is recorded when the body acknowledges a document (``acknowledge_documents``), with
the same transfer row and audit entry as an outbox write (``hub_db.transfers.record_transfer``),
so later notices (correction, erasure, withdrawal) are planned from it exactly as for an outbox.
A document the body *collected* (read) but had not acknowledged when it stopped being due is not
deleted but kept without its content (``superseded``): the body has its content, so its late
acknowledgement must still be recorded for the notices that follow to reach it.

The database keeps each document addressed by the stored record id (the token of an encrypting
source), like everything else of a transfer; the id the body knows is put in only when it is read
(``pipeline.api_collect``). An erasure takes the documents addressed to an erased record with it
and those drawing on one (``forget_records``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from kim_hub.exchange.push_plan import Delivery
from kim_hub.exchange.summary import HeldRecord, content_hash
from kim_hub.hub_db.audit_log import append
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.locks import PUSHING, hold
from kim_hub.hub_db.models import HeldDocument, SourceRecord
from kim_hub.hub_db.transfers import record_transfer

HELD, SUPERSEDED, ACKNOWLEDGED = "held", "superseded", "acknowledged"
DOCUMENT_ID = re.compile(r"[0-9a-f]{32}")  # secrets.token_hex(16): anything else is refused unlooked


@dataclass(frozen=True)
class HoldOutcome:
    """What one push did to a body's held documents (counts only)."""

    held: int = 0  # newly held
    kept: int = 0  # still due, unchanged: same id and cursor
    taken_back: int = 0  # no longer due: removed, or kept without content where the body had read it


@dataclass(frozen=True)
class Acknowledged:
    """What an acknowledgement did: transfers recorded, already recorded, and the ids refused
    (not held for this body: unknown, or another body's — never told apart)."""

    acknowledged: int
    already: int
    refused: tuple[str, ...]


def hold_documents(session: Session, body: str, planned: Sequence[Delivery], at: dt.datetime) -> HoldOutcome:
    """Make the body's unacknowledged documents what the push planned for it now (caller commits,
    holding the push lock). A document is the same when its recipient, kind and content hash are."""
    current = {
        (row.recipient_record, row.kind, row.content_hash): row
        for row in session.execute(select(HeldDocument).where(HeldDocument.body == body, HeldDocument.state == HELD))
        .scalars()
        .all()
    }
    due: dict[tuple[int, str, str], Delivery] = {}
    for delivery in planned:
        due.setdefault((delivery.recipient_pk, delivery.kind, content_hash(delivery.document)), delivery)
    taken_back = 0
    for key, row in current.items():
        if key in due:
            row.consents, row.origins = due[key].consents, due[key].origins
        else:
            _take_back(session, row)
            taken_back += 1
    held = 0
    for key, delivery in due.items():  # plan order: notices before the summary of each recipient
        if key not in current:
            session.add(
                HeldDocument(
                    document_id=secrets.token_hex(16),
                    body=body,
                    recipient_record=delivery.recipient_pk,
                    kind=delivery.kind,
                    content_hash=key[2],
                    document=delivery.document,
                    consents=delivery.consents,
                    origins=delivery.origins,
                    state=HELD,
                    held_at=at,
                )
            )
            held += 1
    session.flush()
    return HoldOutcome(held=held, kept=len(current) - taken_back, taken_back=taken_back)


def bodies_holding(session: Session) -> set[str]:
    """The bodies with documents waiting (also a body no longer configured to collect: the next
    push takes them back)."""
    return set(session.execute(select(HeldDocument.body).where(HeldDocument.state == HELD).distinct()).scalars())


def waiting(session: Session, body: str, since: int | None, limit: int) -> list[HeldDocument]:
    """The body's documents waiting for it after cursor ``since``, oldest first, at most ``limit``."""
    query = select(HeldDocument).where(HeldDocument.body == body, HeldDocument.state == HELD)
    if since is not None:
        query = query.where(HeldDocument.seq > since)
    return list(session.execute(query.order_by(HeldDocument.seq).limit(limit)).scalars())


def mark_collected(session: Session, seqs: Iterable[int], at: dt.datetime) -> None:
    """Note that the body read these documents (the first time only)."""
    for chunk in chunked(sorted(set(seqs))):
        session.execute(
            update(HeldDocument).where(HeldDocument.seq.in_(chunk), HeldDocument.collected_at.is_(None)).values(collected_at=at)
        )


def acknowledge_documents(session: Session, body: str, document_ids: Sequence[str], at: dt.datetime) -> Acknowledged:
    """Record the transfer of each of the body's documents named (caller commits); an id already
    acknowledged counts as such, an id not held for this body is refused. Transfers are recorded in
    the order the push held the documents (a notice before the summary that follows it), under the
    push lock, so a push never plans from half of an acknowledgement. The acknowledgement itself
    is an entry of the transfer channel (counts only), refusals included."""
    hold(session, PUSHING)
    wanted = list(dict.fromkeys(document_ids))
    found: dict[str, HeldDocument] = {}
    for chunk in chunked([i for i in wanted if isinstance(i, str) and DOCUMENT_ID.fullmatch(i)]):
        query = select(HeldDocument).where(HeldDocument.document_id.in_(chunk), HeldDocument.body == body)
        found.update((row.document_id, row) for row in session.execute(query).scalars())
    refused = tuple(i for i in wanted if i not in found)
    already = 0
    acknowledged = 0
    for row in sorted(found.values(), key=lambda r: r.seq):
        if row.state == ACKNOWLEDGED:
            already += 1
            continue
        recipient = session.get(SourceRecord, row.recipient_record)
        if recipient is None:  # erased meanwhile: its documents went with it (cannot happen in one transaction)
            continue
        origins = records_of(session, row.origins)
        record_transfer(
            session,
            row.recipient_record,
            HeldRecord(recipient.source, recipient.record_id, {}, recipient.id),
            row.kind,
            row.content_hash,
            row.consents,
            row.origins,
            origins,
        )
        row.state, row.document, row.acknowledged_at = ACKNOWLEDGED, None, at
        acknowledged += 1
    append(
        session,
        "transfer",
        "summaries.acknowledge",
        (),
        {"body": body, "acknowledged": acknowledged, "already": already, "refused": len(refused)},
    )
    return Acknowledged(acknowledged, already, refused)


def forget_records(session: Session, record_pks: Sequence[int]) -> int:
    """An erasure reaches the held documents (caller commits): those addressed to an erased record
    go, and a waiting document that drew on one is taken back; returns how many went."""
    erased = set(record_pks)
    removed = 0
    for chunk in chunked(sorted(erased)):
        deleted = cast(
            CursorResult[tuple[()]], session.execute(delete(HeldDocument).where(HeldDocument.recipient_record.in_(chunk)))
        )
        removed += max(deleted.rowcount, 0)
    for row in session.execute(select(HeldDocument).where(HeldDocument.state == HELD)).scalars().all():
        if erased.intersection(row.origins or ()):
            _take_back(session, row)
            removed += 1
    session.flush()
    return removed


def _take_back(session: Session, row: HeldDocument) -> None:
    """A waiting document no longer due: gone, unless the body read it; then kept without its
    content, so that its acknowledgement is still recorded."""
    if row.collected_at is None:
        session.delete(row)
    else:
        row.state, row.document = SUPERSEDED, None


def stored_ids(session: Session, keys: Iterable[int]) -> dict[int, str]:
    """Record key → its stored id now (a key rotation gives an encrypting source's token a new form)."""
    found: dict[int, str] = {}
    for chunk in chunked(sorted(set(keys))):
        query = select(SourceRecord.id, SourceRecord.record_id).where(SourceRecord.id.in_(chunk))
        found.update((pk, record_id) for pk, record_id in session.execute(query))
    return found


def records_of(session: Session, keys: Iterable[int]) -> list[tuple[str, str]]:
    """(source, stored record id) of the records these keys name that still exist."""
    found: list[tuple[str, str]] = []
    for chunk in chunked(sorted(set(keys))):
        query = select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_(chunk))
        found += [(source, record_id) for source, record_id in session.execute(query)]
    return found
