"""The review queue: pairs the model was unsure about, decided by a coordinator.

A coordinator sees sources, local record ids, pseudonyms, the match probability and per-field
evidence in words ("family name: transliteration variant; birth date: placeholder") — never a
clear name. A decision is stored on the item and from then on binds the clustering: "same" is a
must-link, "different" a cannot-link. Both records are re-linked at once.

Given the pseudonyms of the persons the hub may hold for KIM (``held``, from
``hub_db.legal_basis``), the queue shows only items with at least one record of such a person,
and of a record whose person is held only for linkage (a job-centre customer who never consented)
the source alone: its local id and pseudonym are withheld. An item of two such records is not
shown and cannot be decided, as if it did not exist; it waits unseen, and goes when the
retention purges its records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import append, record_objects, review_object
from kim_hub.hub_db.link_queue import enqueue
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.master_index import LinkOutcome, LinkPolicy, link_pending
from kim_hub.hub_db.models import Link, Person, ReviewItem, SourceRecord

DECISIONS = ("same", "different")
WITHHELD = "(linkage only)"  # the record id shown for a record whose person is held only for linkage


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    score: float
    status: str
    a: tuple[str, str, str | None]  # source, record_id, pseudonym
    b: tuple[str, str, str | None]
    evidence: dict[str, str]


def list_items(
    session: Session, status: str = "open", limit: int | None = None, held: Collection[str] | None = None
) -> list[ReviewEntry]:
    """Review items, most probable first; with ``held``, only those a coordinator may see, as
    far as they may see them (see the module's docstring)."""
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
    if limit and held is None:
        query = query.limit(limit)
    entries = [
        ReviewEntry(item.id, item.score, item.status, (sa, ra, pa), (sb, rb, pb), item.evidence)
        for item, sa, ra, pa, sb, rb, pb in session.execute(query).all()
    ]
    if held is None:
        return entries
    visible = [seen for seen in (_as_seen(entry, held) for entry in entries) if seen is not None]
    return visible[:limit] if limit else visible


def _as_seen(entry: ReviewEntry, held: Collection[str]) -> ReviewEntry | None:
    """The entry as a coordinator may see it: None without a held person on either side, else
    with the source only of a side whose person is not held."""
    a_held, b_held = entry.a[2] in held, entry.b[2] in held
    if not (a_held or b_held):
        return None
    return replace(
        entry, a=entry.a if a_held else (entry.a[0], WITHHELD, None), b=entry.b if b_held else (entry.b[0], WITHHELD, None)
    )


def _seen(session: Session, item: ReviewItem, held: Collection[str]) -> bool:
    """Would the queue show the item: is either of its records' persons held for KIM?"""
    return bool({_pseudonym_of(session, item.record_a), _pseudonym_of(session, item.record_b)} & set(held))


def _pseudonym_of(session: Session, record_pk: int) -> str | None:
    query = select(Person.pseudonym).join(Link, Link.person_id == Person.id).where(Link.record_id == record_pk)
    return session.execute(query).scalar_one_or_none()


def decide(session: Session, item_id: int, decision: str, policy: LinkPolicy, held: Collection[str] | None = None) -> LinkOutcome:
    """Store a coordinator's decision and re-link the two records under it (caller commits).
    With ``held``, an item the queue would not show is refused as if it did not exist."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    hold(session, LINKING)  # before its first write: a linking run must not hold rows it needs
    item = session.get(ReviewItem, item_id)
    if item is None or (held is not None and not _seen(session, item, held)):
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
