"""The upload page: provider staff without software of their own deliver a file for their body and
see its receipt at once.

Underneath it is the API's delivery (``pipeline.api_deliveries.deliver``): the same written file
in ``processing/``, the same ingest, receipt, idempotency by content and daily limit per body; the
ingest's audit entry names the staff member (``web:<name>``) instead of a token. Only a provider's
own bodies appear; another body's page does not exist. The request is refused above ``[api]
max_request_bytes`` by its declared length, before the form is read.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import TransientError
from kim_hub.pipeline.api_deliveries import DailyLimitError, StaffSender, deliver, ingest_after_answer
from kim_hub.pipeline.audit import record_view
from kim_hub.web.context import context_of, own_body
from kim_hub.web.security import same_token

router = APIRouter()


@router.get("/upload/{source}")
async def upload_page(request: Request, source: str) -> Response:
    user = own_body(request, source)
    web = context_of(request)
    record_view(web.home, user.account.actor, "upload", user.account.context(), detail={"source": source})
    return web.render(request, "upload.html", source=source, limit_mib=_limit(request) // 2**20)


@router.post("/upload/{source}")
async def upload(request: Request, source: str) -> Response:
    user = own_body(request, source)
    web = context_of(request)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > _limit(request):
        return web.render(
            request, "upload.html", status=413, source=source, limit_mib=_limit(request) // 2**20, problem="upload_too_large"
        )
    form = await request.form(max_files=1, max_fields=2)
    if not same_token(user.csrf_token, form.get("csrf")):
        raise HTTPException(status_code=403)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return web.render(
            request, "upload.html", status=422, source=source, limit_mib=_limit(request) // 2**20, problem="upload_no_file"
        )
    data = await file.read()
    sender = StaffSender(source, user.account.actor)
    try:
        done = await run_in_threadpool(deliver, web.home, sender, source, data, Path(file.filename).suffix, None)
    except DailyLimitError:
        return web.render(request, "message.html", status=429, message_key="upload_daily_limit")
    except TransientError:
        return web.render(request, "message.html", status=503, message_key="upload_busy")
    if done.receipt is None:  # a large delivery (or the same content being ingested): its receipt follows
        page = web.render(request, "message.html", status=202, message_key="upload_pending")
        if done.ingest_later is not None:
            page.background = BackgroundTask(ingest_after_answer, web.home, sender, source, done.ingest_later, done.key)
        return page
    record_view(web.home, user.account.actor, "upload", user.account.context(), [done.receipt.object_id], {"source": source})
    return RedirectResponse(f"/receipts/{source}/{done.key}", status_code=303)


def _limit(request: Request) -> int:
    return context_of(request).home.load_config().api.max_request_bytes
