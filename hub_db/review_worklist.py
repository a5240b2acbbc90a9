"""The review queue as a worklist: who works on an item, and which items are set aside for now.

A reviewer takes an item (it is assigned to them, so two reviewers do not study the same pair) and
releases it; an item may be taken only while it is free or already the taker's, unless
``take_over`` (the command line, run by an administrator, may hand an item on). An item set aside
(postponed) leaves the queue until its date, or, without a date, until it is taken back. Neither
changes the clustering, so nothing is re-linked; each is a change in the audit log like a
decision (``review.assign``, ``review.release``, ``review.postpone``, ``review.resume``), naming the
item and its records by id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import append, record_objects, review_object
from kim_hub.hub_db.models import ReviewItem, SourceRecord
from kim_hub.hub_db.review import _held_item  # the same lookup a decision makes: what the queue hides does not exist


def assign(
    session: Session,
    item_id: int,
    reviewer: str,
    held: Collection[str] | None = None,
    context: dict[str, Any] | None = None,
    take_over: bool = False,
) -> None:
    """Assign the open item to ``reviewer`` (an actor, ``web:anna``); caller commits."""
    item = _open_item(session, item_id, held)
    if item.assigned_to not in (None, reviewer) and not take_over:
        raise ConfigError(f"review item {item_id} is assigned to another reviewer")
    before = item.assigned_to
    item.assigned_to, item.assigned_at = reviewer, _now()
    _audit(session, item, "review.assign", {**(context or {}), "to": reviewer, **({"from": before} if before else {})})


def release(
    session: Session,
    item_id: int,
    releaser: str | None,
    held: Collection[str] | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Free the item; ``releaser``: the reviewer, who may release only their own (None: anyone's)."""
    item = _held_item(session, item_id, held)
    if item.assigned_to is None:
        raise ConfigError(f"review item {item_id} is not assigned")
    if releaser is not None and item.assigned_to != releaser:
        raise ConfigError(f"review item {item_id} is assigned to another reviewer")
    released = item.assigned_to
    item.assigned_to, item.assigned_at = None, None
    _audit(session, item, "review.release", {**(context or {}), "released": released})


def postpone(
    session: Session,
    item_id: int,
    until: dt.datetime | None,
    held: Collection[str] | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Set the open item aside until ``until`` (None: until it is taken back); caller commits."""
    now = _now()
    if until is not None and until <= now:
        raise ConfigError("a postponement must end in the future")
    item = _open_item(session, item_id, held)
    item.postponed_at, item.postponed_until = now, until
    _audit(session, item, "review.postpone", {**(context or {}), "until": until.isoformat() if until else "later"})


def resume(session: Session, item_id: int, held: Collection[str] | None = None, context: dict[str, Any] | None = None) -> None:
    """Take a postponed item back into the queue now; caller commits."""
    item = _held_item(session, item_id, held)
    if item.postponed_at is None:
        raise ConfigError(f"review item {item_id} is not postponed")
    item.postponed_at, item.postponed_until = None, None
    _audit(session, item, "review.resume", dict(context or {}))


def _open_item(session: Session, item_id: int, held: Collection[str] | None) -> ReviewItem:
    item = _held_item(session, item_id, held)
    if item.status != "open":
        raise ConfigError(f"review item {item_id} is already decided")
    return item


def _audit(session: Session, item: ReviewItem, action: str, detail: dict[str, Any]) -> None:
    pair = session.execute(
        select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_((item.record_a, item.record_b)))
    ).all()
    append(
        session,
        "change",
        action,
        [review_object(item.id), *record_objects(session, [(source, record_id) for source, record_id in pair])],
        {**detail, "score": item.score},
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
