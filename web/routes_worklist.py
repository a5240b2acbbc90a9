"""The reviewer's worklist: take a pair (assigned to me), release it, set it aside until a date or
"later", take it back; and the view of the pairs set aside. Each action is a change in the audit
log like a decision (``pipeline.review_worklist``); a pair outside the reviewer's grant does not
exist for it, and a pair taken by someone else cannot be taken (the page says so, 409).

The queue's own filters for the worklist (age, mine, unassigned) are in ``routes_review``'s queue
(``web.worklist_filter``); the pairs set aside are listed here, with the same filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.review import QueueFilter, review_items
from kim_hub.pipeline.review_worklist import assign_review, postpone_review, release_review, resume_review
from kim_hub.pipeline.web_sessions import SignedIn
from kim_hub.web.context import context_of, form_of, granted, in_role
from kim_hub.web.routes_review import QUEUE_LIMIT, _pair_page, _shown
from kim_hub.web.worklist_filter import ASSIGNED_VIEWS, days_of, worklist_filter

router = APIRouter()


@router.get("/review/postponed")
async def postponed(request: Request) -> Response:
    """The pairs set aside now (those whose date has come are back in the queue)."""
    user = in_role(request, "reviewer")
    web = context_of(request)
    older, assigned = request.query_params.get("older", ""), request.query_params.get("assigned", "")
    wanted = QueueFilter(bodies=granted(user), **worklist_filter(user, older, assigned, postponed=True))
    items = review_items(
        web.home, "open", QUEUE_LIMIT, wanted=wanted, actor=user.account.actor, context=user.account.context(), evidence=False
    )
    return web.render(
        request,
        "postponed.html",
        items=items,
        older=older if days_of(older) is not None else "",
        assigned=assigned if assigned in ASSIGNED_VIEWS else "",
        me=str(user.account.actor),
    )


@router.post("/review/{item_id:int}/take")
async def take(request: Request, item_id: int) -> Response:
    user, _form = await _acting(request, item_id)
    home, me = context_of(request).home, user.account
    return _done(
        request, user, item_id, lambda: assign_review(home, item_id, str(me.actor), actor=me.actor, context=me.context())
    )


@router.post("/review/{item_id:int}/release")
async def release(request: Request, item_id: int) -> Response:
    user, _form = await _acting(request, item_id)
    home, me = context_of(request).home, user.account
    return _done(
        request, user, item_id, lambda: release_review(home, item_id, str(me.actor), actor=me.actor, context=me.context())
    )


@router.post("/review/{item_id:int}/postpone")
async def postpone(request: Request, item_id: int) -> Response:
    """Until the date given (back in the queue on that day), or "later" without one."""
    user, form = await _acting(request, item_id)
    until = _date_of(form.get("until", ""))
    if until is False:
        return _refused(request, user, item_id)
    home, me, day = context_of(request).home, user.account, until if isinstance(until, dt.datetime) else None
    return _done(request, user, item_id, lambda: postpone_review(home, item_id, day, actor=me.actor, context=me.context()))


@router.post("/review/{item_id:int}/resume")
async def resume(request: Request, item_id: int) -> Response:
    user, _form = await _acting(request, item_id)
    home, me = context_of(request).home, user.account
    return _done(request, user, item_id, lambda: resume_review(home, item_id, actor=me.actor, context=me.context()))


async def _acting(request: Request, item_id: int) -> tuple[SignedIn, dict[str, str]]:
    """The reviewer, its checked form, and the pair as it may see it (else 404)."""
    user = in_role(request, "reviewer")
    form = await form_of(request, user)
    _shown(request, user, item_id)
    return user, form


def _done(request: Request, user: SignedIn, item_id: int, action: Callable[[], None]) -> Response:
    """Run the action; back to the pair, or the pair again with the refusal (409)."""
    try:
        action()
    except ConfigError:
        return _refused(request, user, item_id)
    return RedirectResponse(f"/review/{item_id}", status_code=303)


def _refused(request: Request, user: SignedIn, item_id: int) -> Response:
    return _pair_page(request, user, _shown(request, user, item_id), status=409, worklist_refused=True)


def _date_of(text: str) -> dt.datetime | bool | None:
    """The start of the day given (UTC), None for none ("later"), False for what is not a date."""
    if not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
