"""Signing in and out, and the start page that sends each role to its own pages.

An account with a second factor signs in in two steps: the password form, then the code form
(``pipeline.web_sessions.password_step`` and ``code_step``). Between them the browser holds only a
random id in the cookie ``kim_code`` (HttpOnly, Strict, five minutes); the code form carries the
sign-in form's token. Once any account has a second factor, a failed password step goes on to the
same code form too, so the code form shows up whether the password was right or not.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import ConfigError, HubError
from kim_hub.pipeline.audit import record_view
from kim_hub.pipeline.web_sessions import ABSOLUTE, IDLE, NewSession, SignedIn, code_step, password_step, sign_out
from kim_hub.pipeline.web_totp import PENDING_SECONDS as CODE_SECONDS
from kim_hub.pipeline.web_totp import PendingCode
from kim_hub.pipeline.web_users import EXTERNAL_ACCOUNT_PREFIX
from kim_hub.web.context import context_of, form_of, who
from kim_hub.web.security import SESSION_COOKIE, SIGN_IN_COOKIE, new_token, same_token, set_cookie

router = APIRouter()
ROLE_START = {"reviewer": "/review", "operator": "/sources", "coordinator": "/gaps", "auditor": "/audit"}
CODE_COOKIE = "kim_code"


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
    outcome: NewSession | PendingCode | None = None
    if same_token(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf")) and isinstance(name, str) and isinstance(password, str):
        address = request.client.host if request.client else "unknown"
        try:
            outcome = password_step(context_of(request).home, name, password, address)
        except ConfigError:
            outcome = None
    if isinstance(outcome, PendingCode):
        return _code_form(request, outcome)
    return _signed_in(request, outcome)


@router.post("/sign-in/code")
async def sign_in_code_post(request: Request) -> Response:
    """The second step: the code of an account with a second factor; the same answer as the
    password step for every failure. The pending sign-in is taken once, whatever the outcome."""
    web = context_of(request)
    form = await request.form()
    pending = web.codes.take(request.cookies.get(CODE_COOKIE))
    code = form.get("code")
    created: NewSession | None = None
    if pending is not None and same_token(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf")) and isinstance(code, str):
        try:
            created = code_step(web.home, pending, code)
        except ConfigError:
            created = None
    response = _signed_in(request, created)
    response.delete_cookie(CODE_COOKIE, path="/")
    return response


def _code_form(request: Request, pending: PendingCode) -> Response:
    web = context_of(request)
    token = request.cookies.get(SIGN_IN_COOKIE) or ""
    response = web.render(request, "sign_in_code.html", sign_in_token=token)
    set_cookie(response, request, CODE_COOKIE, web.codes.add(pending), max_age=CODE_SECONDS)
    return response


def _signed_in(request: Request, created: NewSession | None) -> Response:
    """To the start page with the new session's cookie; without one, the sign-in form, failed."""
    if created is None:
        return sign_in_form(request, failed=True)
    redirect = RedirectResponse("/", status_code=303)
    set_cookie(redirect, request, SESSION_COOKIE, created.cookie, max_age=int(ABSOLUTE.total_seconds()))
    redirect.delete_cookie(SIGN_IN_COOKIE, path="/")
    return redirect


@router.post("/sign-out")
async def sign_out_post(request: Request) -> Response:
    """The session ends here; one that came from the OpenID provider ends there too: a page that
    moves on to the provider's logout by itself (a redirect would be refused by the policy's
    form-action 'self', which a form's redirect must obey as well)."""
    web = context_of(request)
    user = who(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    onward = None
    if user is not None:
        await form_of(request, user)
        sign_out(web.home, cookie)
        onward = _provider_logout(request, user, cookie)
    if onward is None:
        response: Response = RedirectResponse("/sign-in", status_code=303)
    else:
        request.state.user = None  # signed out: the page's header shows no one
        config = web.home.load_config().web.oidc
        response = web.render(request, "signed_out.html", onward=onward, provider=config.display_name if config else "")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _provider_logout(request: Request, user: SignedIn, cookie: str | None) -> str | None:
    """The provider's logout address for a session that came from it; None for a local account,
    without a provider's logout, or when the provider cannot be reached (signed out here alone)."""
    web = context_of(request)
    id_token = web.id_tokens.take(cookie)
    flow = web.oidc() if user.account.name.startswith(EXTERNAL_ACCOUNT_PREFIX) else None
    if flow is None:
        return None
    try:
        return flow.end_session_url(id_token)
    except HubError:
        return None


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
