"""The review queue as a service: list uncertain pairs, show one, decide one, undo a decision
(``hub_db.review`` stores them).

A coordinator sees only pairs with a record of a person the hub may hold for KIM, and of the other
record, when its person is held only for linkage, the source alone (``exchange.legal_basis``);
what the list does not show cannot be decided. A decision binds the clustering from then on and
re-links both records at once, under the thresholds of the home's ``[linkage]``; an undo lifts it
and re-links them again. Listing the queue or showing a pair shows records and persons: it is a
read in the audit log (``pipeline.audit``) of what was shown (a withheld record is not named), a
decision or an undo a change (written by ``hub_db.review``).

``actor`` is who acts (default: the user this process runs as; the web application passes the
user it signed in), ``context`` what the audit entry adds about them (role, organisations): ids
and codes, never content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kim_hub.core.access import Access, Actor
from kim_hub.hub_db.audit_log import person_objects, record_objects, review_object
from kim_hub.hub_db.legal_basis import held_pseudonyms
from kim_hub.hub_db.master_index import LinkOutcome
from kim_hub.hub_db.review import DECISIONS, REASONS, WITHHELD, ReviewEntry, decide, list_items, undo
from kim_hub.pipeline.audit import record_read
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases
from kim_hub.pipeline.linking import link_policy

__all__ = [
    "DECISIONS",
    "REASONS",
    "WITHHELD",
    "QueueFilter",
    "ReviewEntry",
    "decide_review",
    "review_item",
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


def review_items(
    home: HubHome,
    status: str = "open",
    limit: int | None = None,
    access: Access | None = None,
    *,
    wanted: QueueFilter | None = None,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[ReviewEntry]:
    """Review items of this status ("all" for every one) a coordinator may see, most probable first."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions:
        with sessions() as session:
            held = held_pseudonyms(session, source_bases(config), kim_policy(config))
            items = list_items(session, status, None if wanted else limit, held)
            if wanted:
                items = [item for item in items if wanted.keeps(item)][: limit or None]
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
            held = held_pseudonyms(session, source_bases(config), kim_policy(config))
            found = [i for i in list_items(session, "all", None, held) if i.id == item_id and (wanted is None or wanted.keeps(i))]
            objects = _shown(session, found)
        if not found:
            return None
        record_read(sessions, config, "review.show", objects, access, {**(context or {}), "items": 1})
    return found[0]


def _shown(session: Session, items: list[ReviewEntry]) -> list[str]:
    """The audit log's object ids of what a listing shows: items, records, persons (not the withheld)."""
    shown = [side for item in items for side in (item.a, item.b) if side[1] != WITHHELD]
    return [
        *(review_object(item.id) for item in items),
        *record_objects(session, [(side[0], side[1]) for side in shown]),
        *person_objects(session, [side[2] for side in shown]),
    ]


def decide_review(
    home: HubHome,
    item: int,
    decision: str,
    reason: str | None = None,
    *,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> LinkOutcome:
    """Store a coordinator's "same" or "different" (with its reason, a code of ``REASONS``) and
    re-link the pair under it (an item the list would not show is refused as if it did not exist)."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return decide(session, item, decision, link_policy(config), _held(session, config), reason, dict(context or {}))


def undo_review(home: HubHome, item: int, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None) -> LinkOutcome:
    """Take a decision back and re-link the pair under the model alone (``hub_db.review.undo``)."""
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        return undo(session, item, link_policy(config), _held(session, config), dict(context or {}))


def _held(session: Session, config: HubConfig) -> set[str]:
    return held_pseudonyms(session, source_bases(config), kim_policy(config))
