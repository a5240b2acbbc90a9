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
from collections.abc import Callable, Container
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, aliased, defer

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import append, record_objects, review_object
from kim_hub.hub_db.legal_basis import HeldPersons
from kim_hub.hub_db.link_queue import enqueue
from kim_hub.hub_db.locks import LINKING, hold
from kim_hub.hub_db.master_index import LinkOutcome, LinkPolicy, link_pending
from kim_hub.hub_db.models import Link, Person, ReviewItem, SourceRecord

DECISIONS = ("same", "different")
REASONS = ("fields_agree", "fields_differ", "source_confirmed", "case_file_checked", "family_member")
"""Why a reviewer decided, from a closed list: a free text could quote a name, a code cannot. The
web application words them; a decision on the command line may name none."""
WITHHELD = "(linkage only)"  # the record id shown for a record whose person is held only for linkage
UNDO = "undo"  # what a pending undo waits for (a decision taken back amounts to a merge or split too)


@dataclass(frozen=True)
class Pending:
    """A decision waiting for a second reviewer: what (``DECISIONS`` or ``UNDO``), why, who asked
    (``kind:name``, as the audit log names actors) and when."""

    item: int
    decision: str
    reason: str | None
    requested_by: str
    requested_at: dt.datetime


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    score: float
    status: str
    a: tuple[str, str, str | None]  # source, record_id, pseudonym
    b: tuple[str, str, str | None]
    evidence: dict[str, str]
    reason: str | None = None
    created_at: dt.datetime | None = None
    weights: dict[str, float] | None = None  # per field, its part of the match weight (log2 Bayes factor)
    assigned_to: str | None = None  # the reviewer's actor (web:anna)
    postponed_at: dt.datetime | None = None
    postponed_until: dt.datetime | None = None
    pending: Pending | None = None  # a decision waiting for a second reviewer (``pipeline.review`` fills it)
    stake: float = 0.0  # what a decision would change (``master_index.decision_stake``): the queue's order

    def postponed(self, now: dt.datetime) -> bool:
        """Set aside at ``now``: postponed, and its date (if it has one) not yet reached."""
        return self.postponed_at is not None and (self.postponed_until is None or _aware(self.postponed_until) > now)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive UTC; PostgreSQL an aware moment."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ItemScope:
    """What a listing narrows in SQL before a page is read: one item (``item_id``), the items in
    ``item_ids``, both sources of a pair (either order), a least score, the bodies both records
    must come from, the reviewer assigned (or none), items made no later than ``created_before``.
    The caller's own test of each entry (``keep``) still decides; the scope only spares reading
    what it would drop."""

    item_id: int | None = None
    item_ids: frozenset[int] | None = None
    sources: tuple[str, str] | None = None
    min_score: float | None = None
    bodies: frozenset[str] | None = None
    assigned_to: str | None = None
    unassigned: bool = False
    created_before: dt.datetime | None = None


LIST_PAGE = 500
"""Items read per query while a listing fills its limit: the queue shows 200 of 10,000 and more.
With a limit, a page is twice what is still missing (at least 50): about half the items have a
person the hub may hold for KIM, and every row read costs its persons' consents."""


def list_items(
    session: Session,
    status: str = "open",
    limit: int | None = None,
    held: Container[str] | None = None,
    *,
    scope: ItemScope | None = None,
    keep: Callable[[ReviewEntry], bool] | None = None,
    evidence: bool = True,
) -> list[ReviewEntry]:
    """Review items, those whose decision would change most first (``master_index.decision_stake``), then the
    most probable; with ``held``, only those a coordinator may see, as
    far as they may see them (see the module's docstring); with ``keep``, only those it keeps.
    Read a page at a time (``LIST_PAGE``, less with a limit) until ``limit`` entries are found; a ``HeldPersons``
    is asked about one page's persons at once. Without ``evidence`` the entries carry no evidence
    and no weights (a list that shows neither is spared reading them)."""
    query = _items_query(status, scope or ItemScope())
    if not evidence:
        query = query.options(defer(ReviewItem.evidence), defer(ReviewItem.weights))
    found: list[ReviewEntry] = []
    after: tuple[float, float, int] | None = None
    while limit is None or len(found) < limit:
        page_query = query if after is None else query.where(_after(*after))
        page = LIST_PAGE if limit is None else min(LIST_PAGE, max(50, 2 * (limit - len(found))))
        rows = session.execute(page_query.limit(page)).all()
        entries = [_entry(*row, evidence=evidence) for row in rows]
        if isinstance(held, HeldPersons):
            held.among(side[2] for entry in entries for side in (entry.a, entry.b))
        for entry in entries:
            seen = entry if held is None else _as_seen(entry, held)
            if seen is not None and (keep is None or keep(seen)):
                found.append(seen)
        if len(rows) < page:
            break
        after = (entries[-1].stake, entries[-1].score, entries[-1].id)
    return found[:limit] if limit else found


def _items_query(status: str, scope: ItemScope) -> Select[ReviewItem, str, str, str, str, str, str]:
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
        .order_by(ReviewItem.stake.desc(), ReviewItem.score.desc(), ReviewItem.id)
    )
    if status != "all":
        query = query.where(ReviewItem.status == status)
    if scope.item_id is not None:
        query = query.where(ReviewItem.id == scope.item_id)
    if scope.item_ids is not None:
        query = query.where(ReviewItem.id.in_(sorted(scope.item_ids)))  # few: the decisions waiting
    if scope.sources is not None:
        first, second = scope.sources
        query = query.where(
            or_(and_(rec_a.source == first, rec_b.source == second), and_(rec_a.source == second, rec_b.source == first))
        )
    if scope.min_score is not None:
        query = query.where(ReviewItem.score >= scope.min_score)
    if scope.bodies is not None:
        query = query.where(rec_a.source.in_(sorted(scope.bodies)), rec_b.source.in_(sorted(scope.bodies)))
    if scope.assigned_to is not None:
        query = query.where(ReviewItem.assigned_to == scope.assigned_to)
    if scope.unassigned:
        query = query.where(or_(ReviewItem.assigned_to.is_(None), ReviewItem.assigned_to == ""))
    if scope.created_before is not None:
        query = query.where(ReviewItem.created_at <= scope.created_before)
    return query


def _after(stake: float, score: float, item_id: int) -> ColumnElement[bool]:
    """Past the last entry of the page before, in the listing's order (stake down, score down, id up)."""
    return or_(
        ReviewItem.stake < stake,
        and_(ReviewItem.stake == stake, or_(ReviewItem.score < score, and_(ReviewItem.score == score, ReviewItem.id > item_id))),
    )


def _entry(
    item: ReviewItem, sa: str, ra: str, pa: str | None, sb: str, rb: str, pb: str | None, *, evidence: bool = True
) -> ReviewEntry:
    return ReviewEntry(
        item.id,
        item.score,
        item.status,
        (sa, ra, pa),
        (sb, rb, pb),
        item.evidence if evidence else {},
        item.reason,
        created_at=_aware(item.created_at) if item.created_at else None,
        weights=item.weights if evidence else None,
        assigned_to=item.assigned_to,
        postponed_at=item.postponed_at and _aware(item.postponed_at),
        postponed_until=item.postponed_until and _aware(item.postponed_until),
        stake=item.stake,
    )


def _as_seen(entry: ReviewEntry, held: Container[str]) -> ReviewEntry | None:
    """The entry as a coordinator may see it: None without a held person on either side, else
    with the source only of a side whose person is not held."""
    a_held, b_held = entry.a[2] in held, entry.b[2] in held
    if not (a_held or b_held):
        return None
    return replace(
        entry, a=entry.a if a_held else (entry.a[0], WITHHELD, None), b=entry.b if b_held else (entry.b[0], WITHHELD, None)
    )


def _seen(session: Session, item: ReviewItem, held: Container[str]) -> bool:
    """Would the queue show the item: is either of its records' persons held for KIM?"""
    return any(pseudonym in held for pseudonym in (_pseudonym_of(session, item.record_a), _pseudonym_of(session, item.record_b)))


def _pseudonym_of(session: Session, record_pk: int) -> str | None:
    query = select(Person.pseudonym).join(Link, Link.person_id == Person.id).where(Link.record_id == record_pk)
    return session.execute(query).scalar_one_or_none()


def decide(
    session: Session,
    item_id: int,
    decision: str,
    policy: LinkPolicy,
    held: Container[str] | None = None,
    reason: str | None = None,
    context: dict[str, Any] | None = None,
) -> LinkOutcome:
    """Store a coordinator's decision (and its reason, a code of ``REASONS``) and re-link the two
    records under it (caller commits). With ``held``, an item the queue would not show is refused
    as if it did not exist."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if reason is not None and reason not in REASONS:
        raise ConfigError(f"a decision's reason must be one of {', '.join(REASONS)}")
    item = _held_item(session, item_id, held)
    item.status = decision
    item.decided_at = dt.datetime.now(dt.UTC)
    item.reason = reason
    detail = {**(context or {}), "decision": decision, "score": item.score, **({"reason": reason} if reason else {})}
    return _relink(session, item, "review.decide", detail, policy)


def undo(
    session: Session, item_id: int, policy: LinkPolicy, held: Container[str] | None = None, context: dict[str, Any] | None = None
) -> LinkOutcome:
    """Take a decision back: the item is open again, its constraint no longer binds the clustering,
    and both records are re-linked under the model alone (caller commits). The pair goes back to the
    queue if the model is still unsure about it; the decision stays in the audit log's history.
    An open item has nothing to undo and is refused as a usage error."""
    item = _held_item(session, item_id, held)
    if item.status not in DECISIONS:
        raise ConfigError(f"review item {item_id} is not decided, so there is nothing to undo")
    undone = item.status
    item.status = "open"
    item.decided_at = None
    item.reason = None
    return _relink(session, item, "review.undo", {**(context or {}), "undone": undone, "score": item.score}, policy)


def held_item(session: Session, item_id: int, held: Container[str] | None) -> ReviewItem:
    """The item as a decision finds it: locked against a linking run, refused if the queue would
    not show it (``hub_db.review_pending`` decides under the four-eyes rule through it)."""
    return _held_item(session, item_id, held)


def _held_item(session: Session, item_id: int, held: Container[str] | None) -> ReviewItem:
    """The item, locked against a linking run; one the queue would not show does not exist."""
    hold(session, LINKING)  # before its first write: a linking run must not hold rows it needs
    item = session.get(ReviewItem, item_id)
    if item is None or (held is not None and not _seen(session, item, held)):
        raise ConfigError(f"no review item {item_id}")
    return item


def _relink(session: Session, item: ReviewItem, action: str, detail: dict[str, Any], policy: LinkPolicy) -> LinkOutcome:
    """Both records of the item re-linked now, and the change in the audit log."""
    enqueue(session, (item.record_a, item.record_b))
    session.flush()
    item_id, record_pks = item.id, (item.record_a, item.record_b)
    outcome = link_pending(session, policy)
    pair = session.execute(select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_(record_pks))).all()
    append(
        session,
        "change",
        action,
        [review_object(item_id), *record_objects(session, [(source, record_id) for source, record_id in pair])],
        {**detail, "records_linked": outcome.records_linked},
    )
    return outcome
