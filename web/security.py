"""What every response carries and every form must bring back.

* Headers: a Content-Security-Policy that allows nothing but this origin's own files (no inline
  script or style, no framing), no MIME sniffing, no referrer, no caching of pages that show
  person-level data, and HSTS when the request came over TLS.
* Forms: the synchronizer token of the session (``pipeline.web_sessions``) in a hidden field,
  compared in constant time; before sign-in, a random token in a cookie of its own, sent back
  in the form (a sign-in form posted from elsewhere has neither).
* Cookies: HttpOnly, SameSite=Strict, Secure when served over TLS.
* The coordinator's report is the reporting room's self-contained page (inline CSS, inline SVG
  charts drawn with style attributes): its route sets a policy of its own that allows exactly the
  styles of that page by their hashes and nothing else, no script at all (``inline_styles_policy``);
  the middleware keeps a policy a route set and adds the default to every other response.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
HSTS = "max-age=31536000; includeSubDomains"
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
CSV_TYPE = "text/csv; charset=utf-8"
STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
SESSION_COOKIE = "kim_session"
SIGN_IN_COOKIE = "kim_signin"
LANG_COOKIE = "kim_lang"


class SecurityHeaders:
    """ASGI middleware: the headers on every response, error pages and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = message.get("headers", [])
                own = {k.decode("latin-1").lower() for k, _v in given} & {"content-security-policy"}
                headers = [
                    (k, v) for k, v in given if k.decode("latin-1").lower() in own or k.decode("latin-1").lower() not in HEADERS
                ]
                headers += [(name.encode(), value.encode()) for name, value in HEADERS.items() if name not in own]
                if tls:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=is_tls(request))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: object) -> bool:
    """Is the form's token the one expected? Constant time; a missing one never matches."""
    return bool(expected) and isinstance(given, str) and secrets.compare_digest(str(expected), given)


def inline_styles_policy(page: str) -> str:
    """A Content-Security-Policy for ``page`` that allows its own style elements and attributes,
    each by its SHA-256 ('unsafe-hashes' is what lets a hash allow an attribute), and nothing
    else (images of its own and inline ones: a chart may embed its raster as a data: URI): no
    script, no other origin, no framing, no form."""
    styles = {*STYLE_ELEMENT.findall(page), *(html.unescape(v) for v in STYLE_ATTRIBUTE.findall(page))}
    hashes = " ".join(sorted(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles))
    return (
        f"default-src 'none'; style-src 'unsafe-hashes' {hashes}; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
    )
