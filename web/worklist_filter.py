"""The review worklist's part of a queue's filter, read from the query: items older than so many
days, only the reviewer's own or only unassigned ones, set aside or not (``pipeline.review.QueueFilter``)."""

from __future__ import annotations

from typing import Any

from kim_hub.pipeline.web_sessions import SignedIn

ASSIGNED_VIEWS = ("mine", "unassigned")
MAX_DAYS = 3650


def worklist_filter(user: SignedIn, older: str, assigned: str, postponed: bool | None) -> dict[str, Any]:
    """QueueFilter's worklist fields; a value that is not one (a typo, a negative age) does not narrow."""
    return {
        "older_than_days": days_of(older),
        "assigned_to": str(user.account.actor) if assigned == "mine" else None,
        "unassigned": assigned == "unassigned",
        "postponed": postponed,
    }


def days_of(text: str) -> int | None:
    """A whole number of days, 0 to ``MAX_DAYS``; None for anything else."""
    return int(text) if text.isdigit() and int(text) <= MAX_DAYS else None
