"""The web application on one home: its routers, the security headers, and the one answer for a
page that does not exist or is not the user's.

Routes: sign-in and start (``routes_account``), the reviewer's queue and pairs (``routes_review``),
the reviewer's worklist: take, release, postpone (``routes_worklist``), a provider's receipts and the
operator's sources (``routes_bodies``), a provider's upload page (``routes_upload``), the coordinator's worklists, report and monitoring export
(``routes_coordinator``), the auditor's audit log (``routes_audit``), the household rules for
reviewers, coordinators and the auditor (``routes_linkage``), and mounted under ``/api/v1``
the providers' HTTP API (``web.api``), which answers in JSON, never with a page. A 404 and a 405 (a page
asked for by the wrong method) get the same not-found page, and the view is logged; a visitor
who is not signed in is sent to sign in instead, from any address, existing or not.

While the server runs (the application's lifespan) the pipeline keeps one database engine per
URL (``pipeline.database.engines_kept``): a page opens the database several times; and the
index a decision's link run loaded (``pipeline.linking.index_kept``), for the next decision.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from kim_hub.pipeline.audit import record_view
from kim_hub.pipeline.database import engines_kept
from kim_hub.pipeline.home import HubHome
from kim_hub.pipeline.linking import index_kept
from kim_hub.web import (
    routes_account,
    routes_audit,
    routes_bodies,
    routes_coordinator,
    routes_linkage,
    routes_oidc,
    routes_review,
    routes_upload,
    routes_worklist,
)
from kim_hub.web.api import API_PREFIX, create_api
from kim_hub.web.context import WebContext, context_of, who
from kim_hub.web.security import SecurityHeaders


async def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    web = context_of(request)
    user = who(request)
    if status in (404, 405):
        if user is None:
            return RedirectResponse("/sign-in", status_code=303)
        record_view(web.home, user.account.actor, "not_found", user.account.context())
        return web.render(request, "not_found.html", status=404)
    return web.render(request, "message.html", status=status, message_key="bad_form" if status == 403 else "not_found_text")


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    with engines_kept(), index_kept():
        yield


def create_app(home: HubHome) -> FastAPI:
    """The application on ``home``: its pages publish no API docs and no OpenAPI schema (nothing to
    discover); the providers' API under ``/api/v1`` is an application of its own (``web.api``)
    with its own document."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.web = WebContext(home)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(HTTPException, _http_error)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for routes in (
        routes_account,
        routes_oidc,
        routes_worklist,
        routes_review,
        routes_bodies,
        routes_upload,
        routes_coordinator,
        routes_audit,
        routes_linkage,
    ):
        app.include_router(routes.router)
    app.mount(API_PREFIX, create_api(home))  # the providers' API: its own application and OpenAPI document
    mounted = app.routes[-1]
    assert isinstance(mounted, Mount)
    # Starlette's pattern of a mount (``.*``) stops at a line break, so an address under /api/v1 with
    # an encoded one (%0A) fell through to the pages and was answered with the sign-in page: with
    # DOTALL everything under the prefix is the API's, answered in JSON (found by schemathesis)
    mounted.path_regex = re.compile(mounted.path_regex.pattern, re.DOTALL)
    return app
