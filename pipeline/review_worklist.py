"""The review worklist as a service: take an item, release it, set it aside, take it back
(``hub_db.review_worklist`` stores them; each is a change in the audit log).

As with a decision, an item the queue would not show the user (``pipeline.review``: the persons
held for KIM) is refused as if it did not exist. ``actor`` is who acts (default: the user this
process runs as), ``context`` what the audit entry adds about them.

Items are assigned to reviewers of the web application, named by their account (``anna`` is
``web:anna``): the command line may hand an item to any active reviewer account (``take_over``),
a reviewer in the web application only take a free one for themself and release their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from kim_hub.core.access import Actor
from kim_hub.core.errors import ConfigError
from kim_hub.hub_db import review_worklist
from kim_hub.hub_db.legal_basis import held_pseudonyms
from kim_hub.hub_db.web_accounts import user_by_name
from kim_hub.pipeline.database import open_sessions
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.legal_basis import kim_policy, source_bases

__all__ = ["assign_review", "postpone_review", "release_review", "resume_review", "reviewer_actor"]


def reviewer_actor(home: HubHome, name: str) -> str:
    """The actor of the active reviewer account ``name`` (``web:name``); refused otherwise."""
    actor = str(Actor("web", name))
    config = home.load_config()
    with open_sessions(home, config) as sessions, sessions() as session:
        user = user_by_name(session, name)
        if user is None or user.disabled or user.role != "reviewer":
            raise ConfigError("an item is assigned to an active reviewer account (kim-hub users list)")
    return actor


def assign_review(
    home: HubHome,
    item: int,
    reviewer: str,
    *,
    take_over: bool = False,
    actor: Actor | None = None,
    context: Mapping[str, Any] | None = None,
) -> None:
    """Assign the open item to ``reviewer`` (an actor: ``web:anna``)."""
    _change(
        home, actor, lambda session, held: review_worklist.assign(session, item, reviewer, held, dict(context or {}), take_over)
    )


def release_review(
    home: HubHome, item: int, releaser: str | None, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None
) -> None:
    """Free the item (``releaser``: only if it is theirs; None: whoever has it)."""
    _change(home, actor, lambda session, held: review_worklist.release(session, item, releaser, held, dict(context or {})))


def postpone_review(
    home: HubHome, item: int, until: dt.datetime | None, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None
) -> None:
    """Set the open item aside until ``until`` (None: until it is taken back)."""
    _change(home, actor, lambda session, held: review_worklist.postpone(session, item, until, held, dict(context or {})))


def resume_review(home: HubHome, item: int, *, actor: Actor | None = None, context: Mapping[str, Any] | None = None) -> None:
    """Take a postponed item back into the queue now."""
    _change(home, actor, lambda session, held: review_worklist.resume(session, item, held, dict(context or {})))


def _change(home: HubHome, actor: Actor | None, change: Callable[[Session, set[str]], None]) -> None:
    config = home.load_config()
    with open_sessions(home, config, actor) as sessions, sessions() as session, session.begin():
        change(session, held_pseudonyms(session, source_bases(config), kim_policy(config)))
