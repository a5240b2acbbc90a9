"""The auditor's page: the audit log listed by time range, actor, action and channel, with every
channel's chain verified. Entries carry ids and codes only (record and person tokens, review item
numbers, file hashes), never a name or a value, so the page shows no person-level data beyond ids.

Only the role ``auditor`` has it; for every other role the page does not exist (404). Looking at
the log is itself an entry of the log (``audit.list`` in the admin channel, with the auditor as
actor and the filter as detail), as on the command line (``kim-hub audit``).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.audit import AuditFilter, list_entries, verify_log
from kim_hub.web.context import context_of, in_role

router = APIRouter()
AUDIT_LIMIT = 200
FILTERS = ("since", "until", "actor", "action", "channel")


@router.get("/audit")
async def audit_log(request: Request) -> Response:
    user = in_role(request, "auditor")
    web = context_of(request)
    asked = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    since, until = _day(asked["since"]), _day(asked["until"], end=True)
    refused = since is False or until is False
    found = []
    if not refused:
        wanted = AuditFilter(
            channel=asked["channel"] or None,
            actor=asked["actor"] or None,
            action=asked["action"] or None,
            since=since if isinstance(since, dt.datetime) else None,
            until=until if isinstance(until, dt.datetime) else None,
        )
        try:
            found = list_entries(
                web.home, wanted, AUDIT_LIMIT, actor=user.account.actor, context={"page": "audit", **user.account.context()}
            )
        except ConfigError:
            refused = True
    report = verify_log(web.home)
    return web.render(
        request,
        "audit.html",
        status=400 if refused else 200,
        entries=found,
        report=report,
        asked=asked,
        refused=refused,
        limit=AUDIT_LIMIT,
    )


def _day(text: str, end: bool = False) -> dt.datetime | bool | None:
    """A day (YYYY-MM-DD) as the start of that day in UTC, or of the next one for an end; None for
    none, False for what is not a day."""
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=dt.UTC)
