"""A provider's pages (its own body's receipts) and the operator's (sources and deliveries, no
person-level data). A provider asking for another body's receipts gets the page that does not exist."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from kim_hub.pipeline.audit import record_view
from kim_hub.pipeline.operations import source_overview
from kim_hub.pipeline.receipts import receipt_of, receipts_of
from kim_hub.web.context import context_of, in_role, not_found, own_body

router = APIRouter()


@router.get("/receipts/{source}")
async def receipts(request: Request, source: str) -> Response:
    user = own_body(request, source)
    web = context_of(request)
    found = receipts_of(web.home, source)
    record_view(web.home, user.account.actor, "receipts", user.account.context(), [r.object_id for r in found])
    return web.render(request, "receipts.html", source=source, receipts=found)


@router.get("/receipts/{source}/{key}")
async def receipt(request: Request, source: str, key: str) -> Response:
    user = own_body(request, source)
    web = context_of(request)
    found = receipt_of(web.home, source, key)
    if found is None:
        raise not_found()
    record_view(web.home, user.account.actor, "receipt", user.account.context(), [found.object_id])
    return web.render(request, "receipt.html", source=source, receipt=found)


@router.get("/sources")
async def sources(request: Request) -> Response:
    user = in_role(request, "operator")
    web = context_of(request)
    overview = source_overview(web.home)
    record_view(web.home, user.account.actor, "sources", user.account.context(), detail={"sources": len(overview)})
    return web.render(request, "sources.html", sources=overview)
