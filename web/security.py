"""What every response carries and every form must bring back.

* Headers: a Content-Security-Policy that allows nothing but this origin's own files (no inline
  script or style, no framing), no MIME sniffing, no referrer, no caching of pages that show
  person-level data, and HSTS when the request came over TLS.
* Forms: the synchronizer token of the session (``pipeline.web_sessions``) in a hidden field,
  compared in constant time; before sign-in, a random token in a cookie of its own, sent back
  in the form (a sign-in form posted from elsewhere has neither).
* Cookies: HttpOnly, SameSite=Strict, Secure when served over TLS.
"""

from __future__ import annotations

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
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1").lower() not in HEADERS]
                headers += [(name.encode(), value.encode()) for name, value in HEADERS.items()]
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
