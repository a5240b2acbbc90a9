"""Signing in and out, and the start page that sends each role to its own pages."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import ConfigError
from kim_hub.pipeline.audit import record_view
from kim_hub.pipeline.web_sessions import ABSOLUTE, IDLE, NewSession, sign_in, sign_out
from kim_hub.web.context import context_of, form_of, who
from kim_hub.web.security import SESSION_COOKIE, SIGN_IN_COOKIE, new_token, same_token, set_cookie

router = APIRouter()
ROLE_START = {"reviewer": "/review", "operator": "/sources", "auditor": "/audit"}


def sign_in_form(request: Request, failed: bool = False, refused: bool = False) -> Response:
    """The sign-in page: the provider's button when one is configured, and the local form."""
    token = request.cookies.get(SIGN_IN_COOKIE) if not (failed or refused) else None
    token = token or new_token()
    web = context_of(request)
    oidc = web.home.load_config().web.oidc
    response = web.render(
        request,
        "sign_in.html",
        status=401 if failed or refused else 200,
        sign_in_token=token,
        failed=failed,
        refused=refused,
        provider=oidc.display_name if oidc else None,
    )
    set_cookie(response, request, SIGN_IN_COOKIE, token, max_age=int(IDLE.total_seconds()))
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return sign_in_form(request)


@router.post("/sign-in")
async def sign_in_post(request: Request) -> Response:
    """One answer for every failure (unknown account, wrong password, disabled, rate limited, a
    form not from the sign-in page): nothing tells which."""
    form = await request.form()
    name, password = form.get("user"), form.get("password")
    created: NewSession | None = None
    if same_token(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf")) and isinstance(name, str) and isinstance(password, str):
        address = request.client.host if request.client else "unknown"
        try:
            created = sign_in(context_of(request).home, name, password, address)
        except ConfigError:
            created = None
    if created is None:
        return sign_in_form(request, failed=True)
    redirect = RedirectResponse("/", status_code=303)
    set_cookie(redirect, request, SESSION_COOKIE, created.cookie, max_age=int(ABSOLUTE.total_seconds()))
    redirect.delete_cookie(SIGN_IN_COOKIE, path="/")
    return redirect


@router.post("/sign-out")
async def sign_out_post(request: Request) -> Response:
    user = who(request)
    if user is not None:
        await form_of(request, user)
        sign_out(context_of(request).home, request.cookies.get(SESSION_COOKIE))
    redirect = RedirectResponse("/sign-in", status_code=303)
    redirect.delete_cookie(SESSION_COOKIE, path="/")
    return redirect


@router.get("/")
async def start(request: Request) -> Response:
    user = who(request)
    if user is None:
        return RedirectResponse("/sign-in", status_code=303)
    account = user.account
    if account.role in ROLE_START:
        return RedirectResponse(ROLE_START[account.role], status_code=303)
    if account.role == "provider" and account.organisations:
        return RedirectResponse(f"/receipts/{account.organisations[0]}", status_code=303)
    record_view(context_of(request).home, account.actor, "start", account.context())
    return context_of(request).render(request, "start.html")
