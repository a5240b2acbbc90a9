"""The review queue: pairs the model was unsure about, decided by a coordinator.

A coordinator sees sources, local record ids, pseudonyms, the match probability and per-field
evidence in words ("family name: transliteration variant; birth date: placeholder") — never a
clear name. A decision is stored on the item and from then on binds the clustering: "same" is a
must-link, "different" a cannot-link. Both records are re-linked at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import append, record_objects, review_object
from kim_hub.hub_db.link_queue import enqueue
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.master_index import LinkOutcome, LinkPolicy, link_pending
from kim_hub.hub_db.models import Link, Person, ReviewItem, SourceRecord

DECISIONS = ("same", "different")


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    score: float
    status: str
    a: tuple[str, str, str | None]  # source, record_id, pseudonym
    b: tuple[str, str, str | None]
    evidence: dict[str, str]


def list_items(session: Session, status: str = "open", limit: int | None = None) -> list[ReviewEntry]:
    """Review items, most probable first."""
    rec_a, rec_b = aliased(SourceRecord), aliased(SourceRecord)
    link_a, link_b = aliased(Link), aliased(Link)
    person_a, person_b = aliased(Person), aliased(Person)
    query = (
        select(ReviewItem, rec_a.source, rec_a.record_id, person_a.pseudonym, rec_b.source, rec_b.record_id, person_b.pseudonym)
        .join(rec_a, rec_a.id == ReviewItem.record_a)
        .join(rec_b, rec_b.id == ReviewItem.record_b)
        .outerjoin(link_a, link_a.record_id == rec_a.id)
        .outerjoin(link_b, link_b.record_id == rec_b.id)
        .outerjoin(person_a, person_a.id == link_a.person_id)
        .outerjoin(person_b, person_b.id == link_b.person_id)
        .order_by(ReviewItem.score.desc(), ReviewItem.id)
    )
    if status != "all":
        query = query.where(ReviewItem.status == status)
    if limit:
        query = query.limit(limit)
    return [
        ReviewEntry(item.id, item.score, item.status, (sa, ra, pa), (sb, rb, pb), item.evidence)
        for item, sa, ra, pa, sb, rb, pb in session.execute(query).all()
    ]


def decide(session: Session, item_id: int, decision: str, policy: LinkPolicy) -> LinkOutcome:
    """Store a coordinator's decision and re-link the two records under it (caller commits)."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    hold(session, LINKING)  # before its first write: a linking run must not hold rows it needs
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise ConfigError(f"no review item {item_id}")
    item.status = decision
    item.decided_at = dt.datetime.now(dt.UTC)
    enqueue(session, (item.record_a, item.record_b))
    session.flush()
    outcome = link_pending(session, policy)
    pair = session.execute(
        select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_((item.record_a, item.record_b)))
    ).all()
    append(
        session,
        "change",
        "review.decide",
        [review_object(item.id), *record_objects(session, [(source, record_id) for source, record_id in pair])],
        {"decision": decision, "score": item.score, "records_linked": outcome.records_linked},
    )
    return outcome
