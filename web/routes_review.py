"""The reviewer's pages: the queue (filtered by source pair and least probability), one pair with
its evidence, a decision with its reason, and its undo. A reviewer granted bodies (``--org``) sees
only pairs of records from them; the rest does not exist for it.

Four eyes: a decision or undo that touches a person whose summaries went to another body waits
for a second reviewer (``pipeline.review``). The pair page shows, before anyone decides, what each
choice would send (correction and withdrawal notices, new summaries: ``preview_review``), and a
waiting decision with confirm and reject for any other reviewer; the queue lists what waits."""

from __future__ import annotations

import itertools

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.review import (
    DECISIONS,
    REASONS,
    Pending,
    QueueFilter,
    ReviewEntry,
    SecondReviewerError,
    confirm_review,
    decide_review,
    preview_review,
    reject_review,
    review_item,
    review_item_shown,
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
    items = review_items(
        web.home, "open", QUEUE_LIMIT, wanted=wanted, actor=user.account.actor, context=user.account.context(), evidence=False
    )
    shown_pair = pair if pair in pairs else ""
    waiting = review_items(
        web.home, "pending", QUEUE_LIMIT, wanted=wanted, actor=user.account.actor, context=user.account.context(), evidence=False
    )
    return web.render(
        request,
        "queue.html",
        items=items,
        waiting=waiting,
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
    request: Request,
    user: SignedIn,
    item: ReviewEntry,
    missing: bool = False,
    refused: bool = False,
    status: int | None = None,
    **extra: object,
) -> Response:
    """The pair with its evidence and, where four eyes apply, what each choice would send."""
    web = context_of(request)
    preview = preview_review(
        web.home, item.id, wanted=QueueFilter(bodies=granted(user)), actor=user.account.actor, context=user.account.context()
    )
    return web.render(
        request,
        "pair.html",
        status=status or (400 if missing else 403 if refused else 200),
        item=item,
        decisions=DECISIONS,
        reasons=REASONS,
        missing=missing,
        refused=refused,
        preview=preview,
        own_request=item.pending is not None and item.pending.requested_by == str(user.account.actor),
        notice=request.query_params.get("notice"),
        **extra,
    )


@router.get("/review/{item_id:int}")
async def pair_page(request: Request, item_id: int) -> Response:
    user = in_role(request, "reviewer")
    return _pair_page(request, user, _shown(request, user, item_id))


@router.post("/review/{item_id:int}/decide")
async def decide_post(request: Request, item_id: int) -> Response:
    """Same or different, with a reason from the closed list; both required."""
    user = in_role(request, "reviewer")
    form = await form_of(request, user)
    item = _shown(request, user, item_id)
    decision, reason = form.get("decision", ""), form.get("reason", "")
    if decision not in DECISIONS or reason not in REASONS or item.status != "open" or item.pending is not None:
        return _pair_page(request, user, item, missing=True)
    try:
        done = decide_review(
            context_of(request).home, item_id, decision, reason, actor=user.account.actor, context=user.account.context()
        )
    except ConfigError:
        raise not_found() from None
    if isinstance(done, Pending):
        return RedirectResponse(f"/review/{item_id}?notice=pending", status_code=303)
    if not review_item_shown(context_of(request).home, item_id, wanted=QueueFilter(bodies=granted(user))):
        # the re-link left neither record with a person held for KIM: the pair's page would be a 404
        return RedirectResponse("/review?notice=decided_out_of_view", status_code=303)
    return RedirectResponse(f"/review/{item_id}", status_code=303)


@router.post("/review/{item_id:int}/undo")
async def undo_post(request: Request, item_id: int) -> Response:
    """The decision taken back; the pair returns to the queue if the model is still unsure."""
    user = in_role(request, "reviewer")
    await form_of(request, user)
    _shown(request, user, item_id)
    try:
        done = undo_review(context_of(request).home, item_id, actor=user.account.actor, context=user.account.context())
    except ConfigError:
        raise not_found() from None
    if isinstance(done, Pending):  # it touches a person whose summaries went out: a second reviewer confirms
        return RedirectResponse(f"/review/{item_id}?notice=pending", status_code=303)
    return RedirectResponse("/review?notice=undone", status_code=303)


@router.post("/review/{item_id:int}/confirm")
async def confirm_post(request: Request, item_id: int) -> Response:
    """A second reviewer applies the decision that waits; the one who asked is refused (403)."""
    user = in_role(request, "reviewer")
    await form_of(request, user)
    item = _shown(request, user, item_id)
    try:
        confirm_review(context_of(request).home, item_id, actor=user.account.actor, context=user.account.context())
    except SecondReviewerError:
        return _pair_page(request, user, item, refused=True)
    except ConfigError:
        raise not_found() from None
    return RedirectResponse(f"/review/{item_id}?notice=confirmed", status_code=303)


@router.post("/review/{item_id:int}/reject")
async def reject_post(request: Request, item_id: int) -> Response:
    """The decision that waits is dropped (by another reviewer, or withdrawn by the one who asked)."""
    user = in_role(request, "reviewer")
    await form_of(request, user)
    _shown(request, user, item_id)
    try:
        reject_review(context_of(request).home, item_id, actor=user.account.actor, context=user.account.context())
    except ConfigError:
        raise not_found() from None
    return RedirectResponse(f"/review/{item_id}?notice=rejected", status_code=303)


def _probability(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None
