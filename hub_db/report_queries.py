"""Collect what the coordinator's report and the state monitoring count, as plain facts.

Nothing here aggregates by rules or decides what is shown: the queries read the stored tables
and hand back small frozen dataclasses (``HubFacts``) that ``reporting/`` turns into counts,
charts and suppressed tables without a database. No clear identity exists in the database; from
the keyed encodings only what is stored in clear is read — which identity fields are present,
the birth date's precision and placeholder flag, and sex — never a token.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import IngestFile, Link, Person, RecordEvent, RejectedRow, ReviewItem, SourceRecord
from kim_hub.hub_db.review import list_items
from kim_hub.hub_db.sealed_encodings import opener
from kim_hub.linkage.encoding_bytes import present_fields
from kim_hub.linkage.sealed import SealBrokenError
from kim_hub.reporting.facts import DeliveryFact, EventFact, HubFacts, RecordFact, RejectionFact, ReviewFact

STREAM_CHUNK = 2000


def collect_facts(
    session: Session,
    review_limit: int = 200,
    held: frozenset[str] | None = None,
    district_label: Callable[[str | None], str | None] | None = None,
) -> HubFacts:
    """Everything the report needs, read in a handful of queries (records streamed in chunks).

    ``held``: pseudonyms of the persons the hub may hold for KIM (``hub_db.legal_basis``); the
    review items are those a coordinator may see, and the report lists no one else by pseudonym.
    ``district_label``: what a record's stored district is shown as (default: as stored)."""
    return HubFacts(
        records=tuple(record_facts(session, district_label)),
        deliveries=tuple(delivery_facts(session)),
        rejections=tuple(rejection_facts(session)),
        reviews=tuple(review_facts(session, review_limit, held)),
        open_reviews=session.execute(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")
        ).scalar_one(),
        held=held,
    )


def record_facts(session: Session, district_label: Callable[[str | None], str | None] | None = None) -> list[RecordFact]:
    """Each record's facts; its district as ``district_label`` shows it, set while the fact is
    made (a copy of every fact afterwards cost a quarter of the report's reading)."""
    label = district_label or _as_stored
    events: dict[int, list[EventFact]] = defaultdict(list)
    for record_pk, kind, on, stored_detail in session.execute(
        select(RecordEvent.record_id, RecordEvent.kind, RecordEvent.occurred_on, RecordEvent.detail).order_by(
            RecordEvent.occurred_on, RecordEvent.id
        )
    ):
        detail = stored_detail or {}
        events[record_pk].append(EventFact(kind, on, detail.get("rechtskreis"), detail.get("residence_status")))
    query = (
        select(
            SourceRecord.id,
            SourceRecord.source,
            SourceRecord.case_data,
            SourceRecord.encoding,
            SourceRecord.key_id,
            SourceRecord.content_hash,
            Person.pseudonym,
            Link.status,
        )
        .outerjoin(Link, Link.record_id == SourceRecord.id)
        .outerjoin(Person, Person.id == Link.person_id)
        .order_by(SourceRecord.id)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    facts = []
    open_stored = opener(session)  # which fields a record has: read from its encoding, opened in memory
    for record_pk, source, case_data, stored, key_id, content_hash, pseudonym, link_status in session.execute(query):
        encoding = _opened(open_stored, stored, key_id, source, content_hash)
        fact = _record_fact(source, case_data or {}, encoding, pseudonym, link_status, tuple(events.get(record_pk, ())), label)
        facts.append(fact)
    return facts


def _as_stored(district: str | None) -> str | None:
    return district


def _opened(
    open_stored: Callable[[str, str, str, str], bytes], stored: str, key_id: str, source: str, content_hash: str
) -> dict[str, Any]:
    """Which fields a record's encoding carries (``encoding_bytes.present_fields``); empty when it
    has none or it does not open (the link run sets such a record aside: the report counts it
    without fields)."""
    if not stored:
        return {}
    try:
        return present_fields(open_stored(stored, key_id, source, content_hash))
    except SealBrokenError:
        return {}


def _date(value: object) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _record_fact(
    source: str,
    case: dict[str, Any],
    encoding: dict[str, Any],
    pseudonym: str | None,
    link_status: str | None,
    events: tuple[EventFact, ...],
    district_label: Callable[[str | None], str | None],
) -> RecordFact:
    present = set()
    names = encoding.get("names") or []
    if any(n.get("family") for n in names):
        present.add("family_name")
    if any(n.get("given") for n in names):
        present.add("given_names")
    for field, key in (
        ("nationality", "nationalities"),
        ("birth_place", "birth_place"),
        ("street", "street"),
        ("postcode", "postcode"),
        ("azr_number", "azr"),
    ):
        if encoding.get(key):
            present.add(field)
    birth = encoding.get("birth_date") or None
    if birth:
        present.add("birth_date")
    sex = encoding.get("sex")
    if sex and sex != "U":
        present.add("sex")
    return RecordFact(
        source=source,
        person=pseudonym,
        link_status=link_status,
        rechtskreis=case.get("rechtskreis"),
        residence_status=case.get("residence_status"),
        case_status=case.get("case_status"),
        case_opened=_date(case.get("case_opened")),
        case_closed=_date(case.get("case_closed")),
        district=district_label(case.get("district") or None),
        updated_at=_date(case.get("updated_at")),
        sex=sex,
        birth_precision=birth.get("precision") if birth else None,
        birth_placeholder=bool(birth and birth.get("placeholder")),
        present=frozenset(present),
        events=events,
    )


def delivery_facts(session: Session) -> list[DeliveryFact]:
    """Ledger counts per source and day of delivery (a sync run ingests a source's files together)."""
    grouped: dict[tuple[str, dt.date], list[int]] = {}
    query = select(
        IngestFile.source,
        IngestFile.created_at,
        IngestFile.rows_total,
        IngestFile.rows_accepted,
        IngestFile.rows_unchanged,
        IngestFile.rows_rejected,
    )
    for source, created, total, accepted, unchanged, rejected in session.execute(query):
        counts = grouped.setdefault((source, created.date()), [0, 0, 0, 0, 0])
        for i, value in enumerate((1, total, accepted, unchanged, rejected)):
            counts[i] += value or 0
    return [DeliveryFact(source, day, *counts) for (source, day), counts in sorted(grouped.items())]


def rejection_facts(session: Session) -> list[RejectionFact]:
    query = (
        select(RejectedRow.source, RejectedRow.field, RejectedRow.reason, func.count())
        .group_by(RejectedRow.source, RejectedRow.field, RejectedRow.reason)
        .order_by(RejectedRow.source, RejectedRow.field, RejectedRow.reason)
    )
    return [RejectionFact(source, field, reason, count) for source, field, reason, count in session.execute(query)]


def review_facts(session: Session, limit: int, held: frozenset[str] | None = None) -> list[ReviewFact]:
    """Open review items (those a coordinator may see, given ``held``), in the queue's order;
    record ids are left out (pseudonyms only)."""
    return [
        ReviewFact(item.id, item.score, item.a[0], item.a[2], item.b[0], item.b[2], dict(item.evidence or {}))
        for item in list_items(session, "open", limit or None, held)
    ]


__all__ = ["collect_facts"]
