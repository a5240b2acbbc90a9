"""What every route shares: the home, the templates, who is signed in, and the checks of role,
grant and form token (``web.app`` puts one ``WebContext`` on the application's state).

A page outside the user's role or grant raises the same 404 a page that does not exist raises;
``web.app`` answers both with one page (and a visitor not signed in is sent to sign in from any
address), so the answer tells nothing about what exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kim_hub.pipeline.home import HubHome, OidcConfig
from kim_hub.pipeline.web_oidc import IdTokens, OidcSignIn, PendingSignIns, client_secret
from kim_hub.pipeline.web_sessions import ABSOLUTE, SignedIn, current
from kim_hub.pipeline.web_totp import PendingCodes
from kim_hub.web.charts import weight_chart
from kim_hub.web.i18n import LANGUAGES, evidence_text, field_label, texts
from kim_hub.web.security import LANG_COOKIE, SESSION_COOKIE, same_token, set_cookie


def _templates() -> Environment:
    env = Environment(loader=PackageLoader("kim_hub.web", "templates"), autoescape=select_autoescape(["html"]))
    env.globals.update(evidence_text=evidence_text, field_label=field_label, weight_chart=weight_chart)
    return env


@dataclass
class WebContext:
    home: HubHome
    templates: Environment = field(default_factory=_templates)
    pending: PendingSignIns = field(default_factory=PendingSignIns)
    codes: PendingCodes = field(default_factory=PendingCodes)
    id_tokens: IdTokens = field(default_factory=lambda: IdTokens(ABSOLUTE.total_seconds()))
    _oidc: tuple[OidcConfig, OidcSignIn] | None = None

    def oidc(self) -> OidcSignIn | None:
        """The relying party of ``[web.oidc]``, None without one (made anew when hub.toml changed)."""
        config = self.home.load_config().web.oidc
        if config is None:
            return None
        if self._oidc is None or self._oidc[0] != config:
            self._oidc = (config, OidcSignIn(config, client_secret(self.home, config)))
        return self._oidc[1]

    def render(self, request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A page in the request's language, with the signed-in user and its form token."""
        lang = language(request)
        user: SignedIn | None = getattr(request.state, "user", None)
        html = self.templates.get_template(template).render(
            t=texts(lang), lang=lang, user=user.account if user else None, csrf=user.csrf_token if user else "", **values
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return response


def context_of(request: Request) -> WebContext:
    found: WebContext = request.app.state.web
    return found


def language(request: Request) -> str:
    """German unless English was asked for (``?lang=en``, then remembered in a cookie)."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "de"


def not_found() -> HTTPException:
    return HTTPException(status_code=404)


def who(request: Request) -> SignedIn | None:
    """The signed-in user of the request (looked up once per request)."""
    if not hasattr(request.state, "user"):
        request.state.user = current(context_of(request).home, request.cookies.get(SESSION_COOKIE))
    user: SignedIn | None = request.state.user
    return user


def in_role(request: Request, *roles: str) -> SignedIn:
    """The signed-in user if its role is one of ``roles``; otherwise the page does not exist."""
    user = who(request)
    if user is None or user.account.role not in roles:
        raise not_found()
    return user


def own_body(request: Request, source: str) -> SignedIn:
    """The signed-in provider if ``source`` is its own body and a source of the hub; otherwise
    the page does not exist (another body's page answers like one that is not there)."""
    user = in_role(request, "provider")
    if source not in user.account.organisations or source not in context_of(request).home.load_config().sources:
        raise not_found()
    return user


def granted(user: SignedIn) -> frozenset[str] | None:
    """The bodies the user is granted; None: every body (an account without ``--org``)."""
    return frozenset(user.account.organisations) if user.account.organisations else None


async def form_of(request: Request, user: SignedIn) -> dict[str, str]:
    """The posted form, if it carries the session's token (else 403: the form is refused)."""
    form = await request.form()
    if not same_token(user.csrf_token, form.get("csrf")):
        raise HTTPException(status_code=403)
    return {key: value for key, value in form.items() if isinstance(value, str)}
