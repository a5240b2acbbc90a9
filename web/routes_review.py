"""The reviewer's pages: the queue (filtered by source pair and least probability), one pair with
its evidence, a decision with its reason, and its undo. A reviewer granted bodies (``--org``) sees
only pairs of records from them; the rest does not exist for it."""

from __future__ import annotations

import itertools

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.review import (
    DECISIONS,
    REASONS,
    QueueFilter,
    ReviewEntry,
    decide_review,
    review_item,
    review_items,
    undo_review,
)
from kim_hub.pipeline.web_sessions import SignedIn
from kim_hub.web.context import context_of, form_of, granted, in_role, not_found
from kim_hub.web.worklist_filter import ASSIGNED_VIEWS, days_of, worklist_filter

router = APIRouter()
QUEUE_LIMIT = 200
PAIR_SEPARATOR = "~"


@router.get("/review")
async def queue(request: Request) -> Response:
    user = in_role(request, "reviewer")
    web = context_of(request)
    bodies = granted(user)
    pairs = {
        f"{a}{PAIR_SEPARATOR}{b}": (a, b)
        for a, b in itertools.combinations_with_replacement(sorted(web.home.load_config().sources), 2)
        if bodies is None or {a, b} <= bodies
    }
    pair = request.query_params.get("pair", "")
    minimum = request.query_params.get("min", "")
    older, assigned = request.query_params.get("older", ""), request.query_params.get("assigned", "")
    wanted = QueueFilter(
        sources=pairs.get(pair),
        min_score=_probability(minimum),
        bodies=bodies,
        **worklist_filter(user, older, assigned, postponed=False),
    )
    items = review_items(web.home, "open", QUEUE_LIMIT, wanted=wanted, actor=user.account.actor, context=user.account.context())
    shown_pair = pair if pair in pairs else ""
    return web.render(
        request,
        "queue.html",
        items=items,
        pairs=list(pairs),
        pair=shown_pair,
        minimum=minimum,
        older=older if days_of(older) is not None else "",
        assigned=assigned if assigned in ASSIGNED_VIEWS else "",
        me=str(user.account.actor),
        notice=request.query_params.get("notice"),
    )


def _shown(request: Request, user: SignedIn, item_id: int) -> ReviewEntry:
    """The item as the queue would show this user (a read in the audit log), or 404."""
    item = review_item(
        context_of(request).home,
        item_id,
        wanted=QueueFilter(bodies=granted(user)),
        actor=user.account.actor,
        context=user.account.context(),
    )
    if item is None:
        raise not_found()
    return item


def _pair_page(
    request: Request, item: ReviewEntry, missing: bool = False, status: int | None = None, **extra: object
) -> Response:
    return context_of(request).render(
        request,
        "pair.html",
        status=status or (400 if missing else 200),
        item=item,
        decisions=DECISIONS,
        reasons=REASONS,
        missing=missing,
        **extra,
    )


@router.get("/review/{item_id:int}")
async def pair_page(request: Request, item_id: int) -> Response:
    user = in_role(request, "reviewer")
    return _pair_page(request, _shown(request, user, item_id))


@router.post("/review/{item_id:int}/decide")
async def decide_post(request: Request, item_id: int) -> Response:
    """Same or different, with a reason from the closed list; both required."""
    user = in_role(request, "reviewer")
    form = await form_of(request, user)
    item = _shown(request, user, item_id)
    decision, reason = form.get("decision", ""), form.get("reason", "")
    if decision not in DECISIONS or reason not in REASONS or item.status != "open":
        return _pair_page(request, item, missing=True)
    try:
        decide_review(
            context_of(request).home, item_id, decision, reason, actor=user.account.actor, context=user.account.context()
        )
    except ConfigError:
        raise not_found() from None
    return RedirectResponse(f"/review/{item_id}", status_code=303)


@router.post("/review/{item_id:int}/undo")
async def undo_post(request: Request, item_id: int) -> Response:
    """The decision taken back; the pair returns to the queue if the model is still unsure."""
    user = in_role(request, "reviewer")
    await form_of(request, user)
    _shown(request, user, item_id)
    try:
        undo_review(context_of(request).home, item_id, actor=user.account.actor, context=user.account.context())
    except ConfigError:
        raise not_found() from None
    return RedirectResponse("/review?notice=undone", status_code=303)


def _probability(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None
