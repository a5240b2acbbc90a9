"""The providers' HTTP API, ``/api/v1``: deliveries, their receipts and the collection of summaries,
for a body with a token.

An application of its own, mounted into the web application (``web.app``), so pages and API stay
apart: the pages publish no OpenAPI document, the API publishes its own at
``/api/v1/openapi.json``, generated from this code and its models (``web.api_models``) and
checked in as docs/hub-api.openapi.json (`kim-hub api-openapi`). By law the API is push, not
search: a body delivers its own records, reads its own receipts and collects what the push held
for it under the consent rules (``pipeline.api_collect``); nothing looks a person up.

Every call is refused or admitted in one place (``_caller``): a missing, unknown, expired or
revoked token answers 401 with no body (one answer for all), more calls than ``[api]
requests_per_minute`` 429 with Retry-After, a token without the operation's scope 403, and a
source or body that is not the token's body's (or a body that does not collect) answers 404
exactly like one that does not exist.
A request body above ``[api] max_request_bytes`` answers 413 before anything is read
(``BodyLimit``). Every call, refused or not, is an ``api.call`` entry of the audit log in the name
of ``api:<body>:<token id>`` (``api:unauthenticated`` without a valid token).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kim_hub.core.access import Actor
from kim_hub.core.errors import TransientError
from kim_hub.pipeline.api_collect import DEFAULT_LIMIT, MAX_LIMIT, NotCollectingError, acknowledge, documents_for
from kim_hub.pipeline.api_deliveries import (
    Caller,
    DailyLimitError,
    IdempotencyConflictError,
    deliver,
    ingest_after_answer,
    pending,
    sources_of,
    takes_json_batches,
)
from kim_hub.pipeline.api_limits import RateLimiter
from kim_hub.pipeline.api_tokens import authenticate
from kim_hub.pipeline.audit import record_api_call
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.receipts import RECEIPT_KEY, receipt_of, receipts_of
from kim_hub.web.api_models import (
    Acknowledgement,
    AcknowledgementResult,
    CollectedSummary,
    DeliveryBatch,
    DeliveryUpload,
    Pending,
    Problem,
    Receipt,
    ReceiptList,
    SummaryPage,
    brief_of,
    receipt_of_summary,
)
from kim_hub.web.client_certificates import client_subject

API_PREFIX = "/api/v1"
TITLE = "kim-hub providers' API"
VERSION = "1.0.0"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces
UNAUTHENTICATED = Actor("api", "unauthenticated")
BUSY_RETRY_SECONDS = 10


class Refused(HTTPException):
    """A call the API refuses, with the status, a value-free reason and headers (Retry-After)."""


def _problem(status: int, detail: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "description": detail}}


UNAUTHORISED: dict[int | str, dict[str, Any]] = {401: {"description": "no valid token (missing, unknown, expired or revoked)"}}
COMMON: dict[int | str, dict[str, Any]] = {
    **UNAUTHORISED,
    **_problem(403, "the token lacks this operation's scope"),
    **_problem(404, "no such source or collecting body of the token's body (another body's answers the same)"),
    **_problem(422, "the request is not what the operation takes"),
    429: {
        "model": Problem,
        "description": "too many calls of this token (per minute) or delivered bytes of this body (per day)",
        "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    },
}


def _home(request: Request) -> HubHome:
    found: HubHome = request.app.state.home
    return found


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _caller(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    """The dependency of an operation that needs ``scope``: the calling body's token, or a refusal."""

    async def admitted(request: Request) -> Caller:
        home = _home(request)
        config = await run_in_threadpool(home.load_config)
        caller = await _identified(request, home, config)
        if caller is None:
            raise Refused(401)
        request.state.caller = caller
        limiter: RateLimiter = request.app.state.limiter
        wait = limiter.admit(caller.credential, config.api.requests_per_minute)
        if wait is not None:
            raise Refused(429, "too many calls of this token; wait and retry", {"Retry-After": str(wait)})
        if scope not in caller.scopes:
            raise Refused(403, "the token lacks this operation's scope")
        params = request.path_params
        if "source" in params and params["source"] not in sources_of(config, caller.body):
            raise Refused(404, "Not Found")
        if "body" in params and (params["body"] != caller.body or not _collects(config, caller.body)):
            raise Refused(404, "Not Found")
        return caller

    return admitted


async def _identified(request: Request, home: HubHome, config: HubConfig) -> Caller | None:
    """The caller by its bearer token; without one, by a client certificate hub.toml lists
    (``web.client_certificates``); else None. A token sent decides, valid or not."""
    bearer = _bearer(request)
    if bearer is not None:
        token = await run_in_threadpool(authenticate, home, bearer)
        return None if token is None else Caller.of_token(token)
    subject = client_subject(request.scope)
    listed = next((c for c in config.api.client_certificates if c.subject == subject), None)
    return None if listed is None else Caller.of_certificate(listed)


async def _audit(request: Request, status: int, objects: list[str] | None = None) -> None:
    """The call's entry in the audit log: operation, status, and the source if it is the caller's."""
    caller: Caller | None = getattr(request.state, "caller", None)
    route = request.scope.get("route")
    operation = getattr(route, "name", "unknown")
    source = request.path_params.get("source")
    detail: dict[str, Any] = {"status": status}
    if caller is not None:
        detail["scopes"] = list(caller.scopes)
        config = await run_in_threadpool(_home(request).load_config)
        if source in sources_of(config, caller.body):
            detail["source"] = source
        if request.path_params.get("body") == caller.body:
            detail["body"] = caller.body
    actor = caller.actor if caller is not None else UNAUTHENTICATED
    await run_in_threadpool(record_api_call, _home(request), actor, operation, detail, objects or [])


async def _refused(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    await _audit(request, status)
    if status == 401:
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    detail = error.detail if isinstance(error, HTTPException) and isinstance(error.detail, str) else "refused"
    headers = dict(error.headers or {}) if isinstance(error, HTTPException) else {}
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _invalid(request: Request, error: Exception) -> Response:
    await _audit(request, 422)
    return JSONResponse({"detail": "the request is not what the operation takes"}, status_code=422)


class BodyLimit:
    """ASGI middleware: a request body above ``[api] max_request_bytes`` answers 413, by its
    Content-Length before anything is read, or as soon as a body without one grows past it."""

    def __init__(self, app: ASGIApp, home: HubHome) -> None:
        self.app = app
        self.home = home

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (await run_in_threadpool(self.home.load_config)).api.max_request_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, send, self.home)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLargeError:
            if not started:
                await _too_large(scope, send, self.home)


class _TooLargeError(Exception):
    pass


async def _too_large(scope: Scope, send: Send, home: HubHome) -> None:
    await run_in_threadpool(record_api_call, home, UNAUTHENTICATED, "too_large", {"status": 413})
    await JSONResponse({"detail": "the request is larger than the API takes"}, status_code=413)(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


# --- the operations ------------------------------------------------------------------------------------

DELIVERY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/DeliveryUpload"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/DeliveryBatch"}},
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "the same key with the same content answers the same receipt; with other content 409",
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
        }
    ],
}


async def post_delivery(request: Request, source: str, background: BackgroundTasks, caller: Caller) -> Response:
    home = _home(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise Refused(422, "Idempotency-Key is 1-200 printable ASCII characters")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Refused(422, "a file delivery is one multipart part named file")
        data = await upload.read()
        suffix = Path(upload.filename or "").suffix
    elif media == "application/json":
        data = await request.body()
        if not await run_in_threadpool(takes_json_batches, home, source):
            raise Refused(415, "this source takes files, not JSON batches")
        if not _is_batch(data):
            raise Refused(422, 'a JSON delivery is {"records": [...]}')
        suffix = ".json"
    else:
        raise Refused(415, "a delivery is multipart/form-data (a file) or application/json (a batch)")
    try:
        done = await run_in_threadpool(deliver, home, caller, source, data, suffix, key)
    except IdempotencyConflictError as conflict:
        raise Refused(409, str(conflict)) from None
    except DailyLimitError as reached:
        raise Refused(429, str(reached), {"Retry-After": str(reached.retry_after)}) from None
    except TransientError:
        raise Refused(503, "the hub is busy; retry later", {"Retry-After": str(BUSY_RETRY_SECONDS)}) from None
    if done.receipt is not None:
        await _audit(request, 200, [done.receipt.object_id])
        return JSONResponse(receipt_of_summary(done.receipt).model_dump())
    if done.ingest_later is not None:
        background.add_task(ingest_after_answer, home, caller, source, done.ingest_later, done.key)
    url = f"{API_PREFIX}/sources/{source}/receipts/{done.key}"
    await _audit(request, 202)
    return JSONResponse(Pending(id=done.key, receipt_url=url).model_dump(), status_code=202, headers={"Location": url})


def _is_batch(data: bytes) -> bool:
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("records"), list)


async def list_receipts(request: Request, source: str) -> Response:
    found = await run_in_threadpool(receipts_of, _home(request), source)
    await _audit(request, 200, [r.object_id for r in found])
    return JSONResponse(ReceiptList(receipts=[brief_of(r) for r in found]).model_dump())


async def get_receipt(request: Request, source: str, receipt_id: str) -> Response:
    home = _home(request)
    found = await run_in_threadpool(receipt_of, home, source, receipt_id)
    if found is not None:
        await _audit(request, 200, [found.object_id])
        return JSONResponse(receipt_of_summary(found).model_dump())
    waiting = RECEIPT_KEY.fullmatch(receipt_id) is not None and await run_in_threadpool(pending, home, source, receipt_id)
    if waiting:
        url = f"{API_PREFIX}/sources/{source}/receipts/{receipt_id}"
        await _audit(request, 202)
        return JSONResponse(Pending(id=receipt_id, receipt_url=url).model_dump(), status_code=202)
    raise Refused(404, "Not Found")


def _collects(config: HubConfig, body: str) -> bool:
    source = config.sources.get(body)
    return source is not None and source.collects


async def get_summaries(request: Request, body: str, caller: Caller, since: int | None, limit: int) -> Response:
    try:
        found = await run_in_threadpool(lambda: documents_for(_home(request), body, since, limit, actor=caller.actor))
    except NotCollectingError:
        raise Refused(404, "Not Found") from None
    except TransientError:
        raise Refused(503, "the hub is busy; retry later", {"Retry-After": str(BUSY_RETRY_SECONDS)}) from None
    documents = [CollectedSummary(id=d.id, cursor=d.cursor, kind=d.kind, document=d.document) for d in found]
    next_since = documents[-1].cursor if documents else since
    await _audit(request, 200, [d.id for d in documents])
    return JSONResponse(SummaryPage(documents=documents, next_since=next_since).model_dump())


async def post_acknowledgements(request: Request, body: str, caller: Caller) -> Response:
    try:  # read here, after the token is admitted: a stranger learns nothing from a parse error
        taken = Acknowledgement.model_validate_json(await request.body())
    except ValueError:
        raise Refused(422, 'an acknowledgement is {"ids": [...]}, at most 1000') from None
    try:
        done = await run_in_threadpool(acknowledge, _home(request), body, taken.ids, caller.actor)
    except NotCollectingError:
        raise Refused(404, "Not Found") from None
    except TransientError:
        raise Refused(503, "the hub is busy; retry later", {"Retry-After": str(BUSY_RETRY_SECONDS)}) from None
    refused = set(done.refused)
    await _audit(request, 200, [i for i in dict.fromkeys(taken.ids) if i not in refused])
    result = AcknowledgementResult(
        acknowledged=done.acknowledged, already_acknowledged=done.already_acknowledged, refused=list(done.refused)
    )
    return JSONResponse(result.model_dump())


def create_api(home: HubHome) -> FastAPI:
    """The API on ``home``, to be mounted at ``API_PREFIX``."""
    api = FastAPI(title=TITLE, version=VERSION, docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    api.state.home = home
    api.state.limiter = RateLimiter()
    api.add_exception_handler(HTTPException, _refused)
    api.add_exception_handler(RequestValidationError, _invalid)
    api.add_middleware(BodyLimit, home=home)
    deliverer = Depends(_caller("deliver"))
    reader = Depends(_caller("receipts"))
    collector = Depends(_caller("collect"))

    async def delivery(request: Request, source: str, background: BackgroundTasks, caller: Caller = deliverer) -> Response:
        """Deliver records of the body's source: a file, or a JSON batch of case records. Runs the
        same connector, mapping, field contract, pseudonymisation and ledger as a dropped file;
        answers its receipt (200), or 202 and the receipt's address for a large delivery."""
        return await post_delivery(request, source, background, caller)

    async def receipts(request: Request, source: str, caller: Caller = reader) -> Response:
        """The receipts of the body's source, newest first: status and counts."""
        return await list_receipts(request, source)

    async def receipt(request: Request, source: str, receipt_id: str, caller: Caller = reader) -> Response:
        """One receipt with its rejected rows and notes by row and field (never a value); 202 while
        its delivery waits to be ingested."""
        return await get_receipt(request, source, receipt_id)

    async def summaries(
        request: Request,
        body: str,
        since: Annotated[int | None, Query(ge=0, description="the last cursor seen; none: from the first")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        caller: Caller = collector,
    ) -> Response:
        """The summaries and notices waiting for the body (as its outbox would hold them), oldest
        first after ``since``. Reading is not the transfer: acknowledge what you stored."""
        return await get_summaries(request, body, caller, since, limit)

    async def acknowledgements(request: Request, body: str, caller: Caller = collector) -> Response:
        """The body stored these documents: each one's transfer is recorded now (and later
        corrections or withdrawals follow from it). Ids not held for the body are refused."""
        return await post_acknowledgements(request, body, caller)

    api.add_api_route(
        "/sources/{source}/deliveries",
        delivery,
        methods=["POST"],
        name="deliveries.post",
        operation_id="deliver",
        response_model=None,
        responses={
            200: {"model": Receipt, "description": "the delivery's receipt"},
            202: {"model": Pending, "description": "taken; ingested after the answer: poll receipt_url"},
            **_problem(400, "a malformed multipart body"),
            **_problem(409, "the Idempotency-Key was used for other content"),
            **_problem(413, "the request is larger than [api] max_request_bytes"),
            **_problem(415, "neither a file nor a JSON batch (or a JSON batch to a source that takes files only)"),
            503: {
                "model": Problem,
                "description": "the hub's database is busy; nothing was taken",
                "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
            },
            **COMMON,
        },
        openapi_extra=DELIVERY_BODY,
    )
    api.add_api_route(
        "/sources/{source}/receipts",
        receipts,
        methods=["GET"],
        name="receipts.list",
        operation_id="listReceipts",
        response_model=None,
        responses={200: {"model": ReceiptList, "description": "the source's receipts"}, **COMMON},
    )
    api.add_api_route(
        "/sources/{source}/receipts/{receipt_id}",
        receipt,
        methods=["GET"],
        name="receipts.get",
        operation_id="getReceipt",
        response_model=None,
        responses={
            200: {"model": Receipt, "description": "the receipt"},
            202: {"model": Pending, "description": "the delivery waits to be ingested"},
            **COMMON,
        },
    )
    busy: dict[int | str, dict[str, Any]] = {
        503: {
            "model": Problem,
            "description": "the hub's database is busy",
            "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
        }
    }
    api.add_api_route(
        "/bodies/{body}/summaries",
        summaries,
        methods=["GET"],
        name="summaries.list",
        operation_id="listSummaries",
        response_model=None,
        responses={200: {"model": SummaryPage, "description": "the documents waiting"}, **busy, **COMMON},
    )
    api.add_api_route(
        "/bodies/{body}/acknowledgements",
        acknowledgements,
        methods=["POST"],
        name="acknowledgements.post",
        operation_id="acknowledge",
        response_model=None,
        responses={200: {"model": AcknowledgementResult, "description": "what the acknowledgement did"}, **busy, **COMMON},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Acknowledgement"}}},
            }
        },
    )
    api.openapi = lambda: _document(api)  # type: ignore[method-assign]
    return api


def _document(api: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's from the routes, with the bodies the operations read
    themselves (after the token: a file or a batch, an acknowledgement), the links from a
    delivery and the receipt list to a receipt, and the bearer scheme."""
    if api.openapi_schema is None:
        document = get_openapi(
            title=TITLE,
            version=VERSION,
            description=(__doc__ or "").split("\n\n")[0],
            routes=api.routes,
            servers=[{"url": API_PREFIX}],
        )
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for model in (DeliveryBatch, DeliveryUpload, Acknowledgement):
            generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(generated.pop("$defs", {}))
            schemas[model.__name__] = generated
        _link(document, "/sources/{source}/deliveries", "post", ("200", "202"), "ReceiptOfDelivery", "$response.body#/id")
        _link(document, "/sources/{source}/receipts", "get", ("200",), "NewestReceipt", "$response.body#/receipts/0/id")
        components["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearerAuth": []}]
        api.openapi_schema = document
    return api.openapi_schema


def _link(document: dict[str, Any], path: str, method: str, statuses: tuple[str, ...], name: str, receipt_id: str) -> None:
    """An OpenAPI link from an operation's answer to the receipt it names (a client, and
    schemathesis' stateful test, follows it: deliver, then read that receipt)."""
    link = {
        "operationId": "getReceipt",
        "parameters": {"source": "$request.path.source", "receipt_id": receipt_id},
        "description": "the receipt of this delivery (or the newest one listed)",
    }
    for status in statuses:
        document["paths"][path][method]["responses"][status].setdefault("links", {})[name] = link


def openapi_text() -> str:
    """The API's OpenAPI document as checked in (docs/hub-api.openapi.json); needs no home."""
    document = create_api(HubHome(Path("."))).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
