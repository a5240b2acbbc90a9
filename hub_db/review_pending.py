"""The four-eyes rule of the review: a decision that touches a person whose summaries already went
to another body waits for a second reviewer.

A merge or a split changes what the bodies were told: who got a summary under a wrong link gets a
correction, who would gain another person's facts gets them (``exchange.decision_effects`` says
which, before anyone decides). So when either record of an item belongs to a person one of whose
records was last sent a summary (``hub_db.transfers.last_transfers``), the reviewer's decision —
"same", "different", or an undo, which amounts to one of them — is stored here as pending instead
of applied. A *different* reviewer confirms it (then it is applied, and the audit entry of the
decision names both: the confirming actor, and ``requested_by``) or rejects it; the one who asked
cannot confirm its own. Items that touch nobody sent are decided at once, as before.

Every step is a change in the audit log: ``review.request`` (the first reviewer), then
``review.decide`` / ``review.undo`` (the second, with ``requested_by``) or ``review.reject``.
The caller commits; the actor is the session's (``hub_db.audit_log.auditor_of``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Container
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.core.errors import ConfigError
from kim_hub.hub_db.audit_log import append, auditor_of, record_objects, review_object
from kim_hub.hub_db.master_index import LinkOutcome, LinkPolicy
from kim_hub.hub_db.models import Link, PendingDecision, ReviewItem, SourceRecord
from kim_hub.hub_db.review import DECISIONS, REASONS, UNDO, Pending, decide, held_item, undo
from kim_hub.hub_db.transfers import last_transfers

PENDING_DECISIONS = (*DECISIONS, UNDO)


class SecondReviewerError(ConfigError):
    """The reviewer who asked for a decision tried to confirm it: four eyes means two people."""


def touches_sent(session: Session, item: ReviewItem) -> bool:
    """Does either record of the item belong to a person one of whose records was last sent a
    summary (one not yet taken back by a notice)?"""
    persons = select(Link.person_id).where(Link.record_id.in_((item.record_a, item.record_b)))
    records = set(session.execute(select(Link.record_id).where(Link.person_id.in_(persons))).scalars())
    records |= {item.record_a, item.record_b}
    return any(previous.kind == "summary" for previous in last_transfers(session, records).values())


def item_touches_sent(session: Session, item_id: int) -> bool:
    """``touches_sent`` of the item by id (False for none): a read, no lock taken."""
    item = session.get(ReviewItem, item_id)
    return item is not None and touches_sent(session, item)


def submit(
    session: Session,
    item_id: int,
    decision: str,
    policy: LinkPolicy,
    held: Container[str] | None = None,
    reason: str | None = None,
    context: dict[str, Any] | None = None,
) -> LinkOutcome | Pending:
    """A reviewer's decision (``DECISIONS``) or undo (``UNDO``) under the four-eyes rule: applied at
    once (its ``LinkOutcome``), or, when it touches a person whose summaries went out, recorded
    as pending (its ``Pending``). An item that already waits is refused until that is settled."""
    if decision not in PENDING_DECISIONS:
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if reason is not None and reason not in REASONS:
        raise ConfigError(f"a decision's reason must be one of {', '.join(REASONS)}")
    item = held_item(session, item_id, held)
    if session.get(PendingDecision, item_id) is not None:
        raise ConfigError(f"review item {item_id} already waits for a second reviewer's confirmation")
    if decision == UNDO and item.status not in DECISIONS:
        raise ConfigError(f"review item {item_id} is not decided, so there is nothing to undo")
    if not touches_sent(session, item):
        return _apply(session, item_id, decision, reason, policy, held, context or {})
    pending = PendingDecision(
        item_id=item_id,
        decision=decision,
        reason=reason if decision != UNDO else None,
        requested_by=str(auditor_of(session).actor),
        requested_at=dt.datetime.now(dt.UTC),
    )
    session.add(pending)
    detail = {**(context or {}), "decision": decision, "score": item.score, **({"reason": reason} if reason else {})}
    append(session, "change", "review.request", _objects(session, item), {**detail, "waits_for": "second_reviewer"})
    return _as_pending(pending)


def confirm(
    session: Session, item_id: int, policy: LinkPolicy, held: Container[str] | None = None, context: dict[str, Any] | None = None
) -> LinkOutcome:
    """A second reviewer applies the pending decision; the one who asked cannot
    (``SecondReviewerError``). The decision's audit entry names who asked (``requested_by``)."""
    held_item(session, item_id, held)
    pending = _pending(session, item_id)
    if pending.requested_by == str(auditor_of(session).actor):
        raise SecondReviewerError(
            f"review item {item_id}: a decision must be confirmed by another reviewer than the one who asked"
        )
    asked = {"requested_by": pending.requested_by, "requested_at": pending.requested_at.isoformat(timespec="seconds")}
    decision, reason = pending.decision, pending.reason
    session.delete(pending)
    session.flush()
    return _apply(session, item_id, decision, reason, policy, held, {**(context or {}), **asked})


def reject(session: Session, item_id: int, held: Container[str] | None = None, context: dict[str, Any] | None = None) -> Pending:
    """The pending decision is dropped, nothing applied (by a second reviewer, or by the one who
    asked, who changed its mind); the item is as it was before it was asked."""
    item = held_item(session, item_id, held)
    pending = _pending(session, item_id)
    dropped = _as_pending(pending)
    session.delete(pending)
    own = dropped.requested_by == str(auditor_of(session).actor)
    detail = {**(context or {}), "decision": dropped.decision, "requested_by": dropped.requested_by, "own": own}
    append(session, "change", "review.reject", _objects(session, item), detail)
    return dropped


def pending_decisions(session: Session, item_ids: Collection[int] | None = None) -> dict[int, Pending]:
    """Item id → its decision waiting for a second reviewer (of these items, or of all)."""
    query = select(PendingDecision)
    if item_ids is not None:
        query = query.where(PendingDecision.item_id.in_(list(item_ids)))
    return {row.item_id: _as_pending(row) for row in session.execute(query).scalars()}


def _apply(
    session: Session,
    item_id: int,
    decision: str,
    reason: str | None,
    policy: LinkPolicy,
    held: Container[str] | None,
    context: dict[str, Any],
) -> LinkOutcome:
    if decision == UNDO:
        return undo(session, item_id, policy, held, context)
    return decide(session, item_id, decision, policy, held, reason, context)


def _pending(session: Session, item_id: int) -> PendingDecision:
    pending = session.get(PendingDecision, item_id)
    if pending is None:
        raise ConfigError(f"review item {item_id} has no decision waiting for confirmation")
    return pending


def _as_pending(row: PendingDecision) -> Pending:
    return Pending(row.item_id, row.decision, row.reason, row.requested_by, row.requested_at)


def _objects(session: Session, item: ReviewItem) -> list[str]:
    pair = session.execute(
        select(SourceRecord.source, SourceRecord.record_id).where(SourceRecord.id.in_((item.record_a, item.record_b)))
    ).all()
    return [review_object(item.id), *record_objects(session, [(source, record_id) for source, record_id in pair])]
