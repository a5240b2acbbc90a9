"""Sign-in through the installation's OpenID provider (``[web.oidc]`` in hub.toml): off to the
provider, and back to the callback, which opens the same server-side session a local account
gets (``pipeline.web_sessions.sign_in_external``).

The pending sign-in's state, nonce and code verifier stay in this process
(``pipeline.web_oidc.PendingSignIns``); the browser holds only a random id in the cookie
``kim_oidc`` (HttpOnly, ten minutes, path /sign-in/oidc). That cookie is SameSite=Lax, not
Strict: the callback is a navigation from the provider's site, on which a Strict cookie is not
sent. For the same reason the callback answers with a page that moves on to the start page
itself rather than with a redirect: a redirect would still count as coming from the provider,
and the Strict session cookie would not go with it.

Every failure (no pending sign-in, a foreign state, a refused code, an invalid ID token, claims
that grant nothing, an unreachable provider) gets one page; the audit log records the kind.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from kim_hub.core.errors import BadInputError, ConfigError, HubError
from kim_hub.pipeline.oidc_claims import ClaimsRefused, map_claims
from kim_hub.pipeline.web_oidc import PENDING_SECONDS, OidcSignIn
from kim_hub.pipeline.web_sessions import ABSOLUTE, refuse_external, sign_in_external
from kim_hub.web.context import context_of, not_found
from kim_hub.web.routes_account import sign_in_form
from kim_hub.web.security import SESSION_COOKIE, SIGN_IN_COOKIE, is_tls, set_cookie

router = APIRouter()
PENDING_COOKIE = "kim_oidc"
PENDING_PATH = "/sign-in/oidc"


def _flow(request: Request) -> OidcSignIn:
    """The configured relying party; without [web.oidc] the page does not exist."""
    flow = context_of(request).oidc()
    if flow is None:
        raise not_found()
    return flow


def _reason(error: HubError) -> str:
    if isinstance(error, ConfigError):
        return "configuration"  # e.g. no client secret, or the discovery document names another issuer
    return "invalid_answer" if isinstance(error, BadInputError) else "provider_unreachable"


@router.get("/sign-in/oidc")
async def begin(request: Request) -> Response:
    web = context_of(request)
    try:
        url, pending = _flow(request).begin()
    except HubError as error:
        refuse_external(web.home, _reason(error))
        return sign_in_form(request, refused=True)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        web.pending.add(pending),
        max_age=PENDING_SECONDS,
        path=PENDING_PATH,
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
    )
    return response


@router.get("/sign-in/oidc/callback")
async def callback(request: Request) -> Response:
    web = context_of(request)
    if web.home.load_config().web.oidc is None:
        raise not_found()
    pending = web.pending.take(request.cookies.get(PENDING_COOKIE))
    reason = "no_pending_sign_in"
    created = None
    if pending is not None:
        try:
            flow = _flow(request)
            claims, id_token = flow.finish_with_token(pending, dict(request.query_params))
            grant = map_claims(claims, flow.config, web.home.load_config().sources)
            if isinstance(grant, ClaimsRefused):
                reason = grant.reason
            else:
                created = sign_in_external(web.home, flow.config.issuer, str(claims["sub"]), grant)
                if created is not None:
                    web.id_tokens.add(created.cookie, id_token)  # the logout's hint (routes_account.sign_out_post)
                reason = "disabled"  # audited as such by sign_in_external when it returned None
        except HubError as error:
            reason = _reason(error)
    if created is None:
        if reason != "disabled":
            refuse_external(web.home, reason)
        response = sign_in_form(request, refused=True)
    else:
        response = web.render(request, "signed_in.html")
        set_cookie(response, request, SESSION_COOKIE, created.cookie, max_age=int(ABSOLUTE.total_seconds()))
        response.delete_cookie(SIGN_IN_COOKIE, path="/")
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return response
