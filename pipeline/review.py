"""The review queue as a service: list uncertain pairs, show one, decide one, undo a decision
(``hub_db.review`` stores them).

A coordinator sees only pairs with a record of a person the hub may hold for KIM, and of the other
record, when its person is held only for linkage, the source alone (``exchange.legal_basis``);
what the list does not show cannot be decided. A decision binds the clustering from then on and
re-links both records at once, under the thresholds of the home's ``[linkage]``; an undo lifts it
and re-links them again. Listing the queue or showing a pair shows records and persons: it is a
read in the audit log (``pipeline.audit``) of what was shown (a withheld record is not named), a
decision or an undo a change (written by ``hub_db.review``).

Four eyes (``hub_db.review_pending``): a decision or undo that touches a person whose summaries
already went to another body is recorded as pending, not applied; another reviewer confirms it
(``confirm_review``) or rejects it (``reject_review``). Before anyone decides, ``preview_review``
says what each choice would send (``exchange.decision_effects``): the decision tried in a
transaction that is rolled back, the push planned over the persons it would leave. Showing that
is a read in the audit log (``review.preview``), as it says which bodies know a person.

``actor`` is who acts (default: the user this process runs as; the web application passes the
user it signed in), ``context`` what the audit entry adds about them (role, organisations): ids
and codes, never content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from kim_hub.core.access import Access, Actor
from kim_hub.exchange.decision_effects import Effect
from kim_hub.hub_db.audit_log import person_objects, record_objects, review_object
from kim_hub.hub_db.decision_preview import preview
from kim_hub.hub_db.legal_basis import HeldPersons
from kim_hub.hub_db.master_index import HouseholdRules, LinkOutcome, household_rules
from kim_hub.hub_db.review import DECISIONS, REASONS, UNDO, WITHHELD, ItemScope, Pending, ReviewEntry, list_items
from kim_hub.hub_db.review_pending import SecondReviewerError, confirm, item_touches_sent, pending_decisions, reject, submit
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.linking import link_policy
from kim_hub.pipeline.push import consent_policy

__all__ = [
    "DECISIONS",
    "REASONS",
    "UNDO",
    "WITHHELD",
    "DecisionPreview",
    "Effect",
    "HouseholdRules",
    "LinkOutcome",
    "Pending",
    "QueueFilter",
    "ReviewEntry",
    "SecondReviewerError",
    "confirm_review",
    "decide_review",
    "household_rules_of",
    "preview_review",
    "reject_review",
    "review_item",
    "review_item_shown",
    "review_items",
    "undo_review",
]


@dataclass(frozen=True)
class QueueFilter:
    """Which items a listing keeps: both sources of a pair (in either order), a least probability,
    and the bodies a user is granted (both records must come from them; None: every body); the
    worklist's view (``hub_db.review_worklist``): items older than so many days, assigned to one
    reviewer (an actor, ``web:anna``) or to none, and set aside or not (None: both)."""

    sources: tuple[str, str] | None = None
    min_score: float | None = None
    bodies: frozenset[str] | None = None
    older_than_days: int | None = None
    assigned_to: str | None = None
    unassigned: bool = False
    postponed: bool | None = None

    def keeps(self, entry: ReviewEntry, now: dt.datetime | None = None) -> bool:
        moment = now or dt.datetime.now(dt.UTC)
        if self.min_score is not None and entry.score < self.min_score:
            return False
        if self.older_than_days is not None and (
            entry.created_at is None or entry.created_at > moment - dt.timedelta(days=self.older_than_days)
        ):
            return False
        if (self.assigned_to is not None and entry.assigned_to != self.assigned_to) or (self.unassigned and entry.assigned_to):
            return False
        if self.postponed is not None and entry.postponed(moment) != self.postponed:
            return False
        if self.bodies is not None and not {entry.a[0], entry.b[0]} <= self.bodies:
            return False
        return self.sources is None or sorted((entry.a[0], entry.b[0])) == sorted(self.sources)

    def scope(self, now: dt.datetime) -> ItemScope:
        """What of the filter the listing's SQL can narrow at ``now`` (``keeps`` still decides each
        entry, at the same moment)."""
        return ItemScope(
            sources=self.sources,
            min_score=self.min_score,
            bodies=self.bodies,
            assigned_to=self.assigned_to,
            unassigned=self.unassigned,
            created_before=None if self.older_than_days is None else now - dt.timedelta(days=self.older_than_days),
        )


def review_items(
    home: HubHome,
    status: str = "open",
    limit: int | None = None,
    access: Access | None = None,
    *,
    wanted: QueueFilter | None = None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
    evidence: bool = True,
) -> list[ReviewEntry]:
    """Review items of this status ("all" for every one, "pending" for those waiting for a second
    reviewer, whatever their status) a coordinator may see, in the queue's order (what a decision
    would change first: ``master_index.decision_stake``). Without
    ``evidence``, the entries carry neither evidence nor weights (the web queue shows neither)."""
    config = home.load_config()
    waiting = status == "pending"
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            held = _held(session, config)
            now = dt.datetime.now(dt.UTC)
            scope = wanted.scope(now) if wanted else ItemScope()
            if waiting:  # few ever wait: only those are read
                scope = replace(scope, item_ids=frozenset(pending_decisions(session)))
            keep = None if wanted is None else partial(wanted.keeps, now=now)
            listed = list_items(session, "all" if waiting else status, limit, held, scope=scope, keep=keep, evidence=evidence)
            items = _with_pending(session, listed)
            objects = _shown(session, items)
        detail = {**(context or {}), "status": status, "items": len(items)}
        record_read(sessions, config, "review.list", objects, access, detail)
    return items


def review_item(
    home: HubHome,
    item_id: int,
    access: Access | None = None,
    *,
    wanted: QueueFilter | None = None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> ReviewEntry | None:
    """One review item as the queue would show it (any status), or None if the queue would not
    show it: as if it did not exist. Showing it is a read in the audit log."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            keep = None if wanted is None else wanted.keeps
            found = list_items(session, "all", None, _held(session, config), scope=ItemScope(item_id=item_id), keep=keep)
            found = _with_pending(session, found)
            objects = _shown(session, found)
        if not found:
            return None
        record_read(sessions, config, "review.show", objects, access, {**(context or {}), "items": 1})
    return found[0]


def review_item_shown(home: HubHome, item_id: int, *, wanted: QueueFilter | None = None, actor: Actor | None = None) -> bool:
    """Would ``review_item`` show the item (where to send a reviewer after a decision)? Only yes or
    no: nothing of the item is shown, so it is no read in the audit log."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session:
        keep = None if wanted is None else wanted.keeps
        return bool(list_items(session, "all", None, _held(session, config), scope=ItemScope(item_id=item_id), keep=keep))


def _shown(session: Session, items: list[ReviewEntry]) -> list[str]:
    """The audit log's object ids of what a listing shows: items, records, persons (not the withheld)."""
    shown = [side for item in items for side in (item.a, item.b) if side[1] != WITHHELD]
    return [
        *(review_object(item.id) for item in items),
        *record_objects(session, [(side[0], side[1]) for side in shown]),
        *person_objects(session, [side[2] for side in shown]),
    ]


def _with_pending(session: Session, items: list[ReviewEntry]) -> list[ReviewEntry]:
    """The items with the decision each waits for, if any."""
    waiting = pending_decisions(session, [item.id for item in items])
    return [replace(item, pending=waiting.get(item.id)) for item in items]


def decide_review(
    home: HubHome,
    item: int,
    decision: str,
    reason: str | None = None,
    *,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> LinkOutcome | Pending:
    """Store a coordinator's "same" or "different" (with its reason, a code of ``REASONS``) and
    re-link the pair under it (an item the list would not show is refused as if it did not exist);
    or, when it touches a person whose summaries went out, record it as pending (``Pending``)."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return submit(session, item, decision, link_policy(config), _held(session, config), reason, dict(context or {}))


def undo_review(
    home: HubHome, item: int, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None
) -> LinkOutcome | Pending:
    """Take a decision back and re-link the pair under the model alone (``hub_db.review.undo``);
    pending instead, like a decision, when it touches a person whose summaries went out."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return submit(session, item, UNDO, link_policy(config), _held(session, config), None, dict(context or {}))


def confirm_review(
    home: HubHome, item: int, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None
) -> LinkOutcome:
    """A second reviewer applies the decision waiting on the item (``SecondReviewerError`` for
    the one who asked)."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return confirm(session, item, link_policy(config), _held(session, config), dict(context or {}))


def reject_review(home: HubHome, item: int, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None) -> Pending:
    """The decision waiting on the item is dropped; nothing is applied."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return reject(session, item, _held(session, config), dict(context or {}))


@dataclass(frozen=True)
class DecisionPreview:
    """What deciding an item would send, before anyone decides it.

    ``four_eyes``: the item touches a person whose summaries went out, so a decision waits for a
    second reviewer; only then are ``effects`` worked out: per choice (``same``/``different`` for
    an open item, the waiting one for a pending item, ``undo`` for a decided one) the documents
    the next push would send because of it. A pseudonym of a person held only for linkage is
    shown as ``WITHHELD``."""

    four_eyes: bool
    effects: dict[str, list[Effect]] = field(default_factory=dict)


def preview_review(
    home: HubHome,
    item_id: int,
    access: Access | None = None,
    *,
    wanted: QueueFilter | None = None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
    today: dt.date | None = None,
) -> DecisionPreview | None:
    """What each choice on the item would send (None: the queue would not show the item). Each
    choice is tried in a transaction that is rolled back; the persons shown are a read."""
    config = home.load_config()
    policy, consent = link_policy(config), consent_policy(config, today)
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            held = _held(session, config)
            found = _with_pending(session, list_items(session, "all", None, held, scope=ItemScope(item_id=item_id)))
            if not found or (wanted is not None and not wanted.keeps(found[0])):
                return None
            entry, four_eyes = found[0], item_touches_sent(session, item_id)
        choices = _choices(entry) if four_eyes else ()
        effects: dict[str, list[Effect]] = {}
        for choice in choices:
            with sessions() as session:
                trial = session.begin()
                try:
                    tried = preview(session, item_id, choice, policy, consent, held)
                finally:
                    trial.rollback()
            effects[choice] = [e if e.pseudonym in held else replace(e, pseudonym=WITHHELD) for e in tried]
        if choices:
            with sessions() as session:
                shown = [e.pseudonym for found_effects in effects.values() for e in found_effects if e.pseudonym != WITHHELD]
                objects = [review_object(item_id), *person_objects(session, shown)]
            detail = {**(context or {}), "choices": list(choices), "effects": sum(len(e) for e in effects.values())}
            record_read(sessions, config, "review.preview", objects, access, detail)
    return DecisionPreview(four_eyes, effects)


def household_rules_of(home: HubHome) -> HouseholdRules:
    """Which patterns of household evidence alone link automatically in this home, with the
    counts that decided it (``hub_db.master_index.household_rules``; no person-level data)."""
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session:
        return household_rules(session, link_policy(config))


def _choices(entry: ReviewEntry) -> tuple[str, ...]:
    """The choices a reviewer has on the item now: what waits, else decide, else undo."""
    if entry.pending is not None:
        return (entry.pending.decision,)
    return DECISIONS if entry.status == "open" else (UNDO,)


def _held(session: Session, config: HubConfig) -> HeldPersons:
    """Whom the hub may hold for KIM, asked only about the persons a page or a decision touches."""
    return HeldPersons(session, source_bases(config), kim_policy(config))
