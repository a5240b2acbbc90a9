"""Sign-ins half done, held in this process's memory under a cookie's random id.

Both the OpenID provider's round trip (``web_oidc``: state, nonce, PKCE verifier) and the second
factor's code step (``web_totp``) must remember a sign-in between two requests without writing
anything of it to the database. Each is kept by the SHA-256 of its cookie's random id, taken
once, within its lifetime; the oldest go when there are too many (a flood of started sign-ins
cannot grow the process without bound).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Generic, Protocol, TypeVar

MAX_PENDING = 10_000


class _Started(Protocol):
    @property
    def started(self) -> float: ...  # time.monotonic() when it began


Pending = TypeVar("Pending", bound=_Started)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PendingByCookie(Generic[Pending]):
    """Half-done sign-ins by cookie, each valid for ``lifetime_seconds`` and taken once."""

    def __init__(self, lifetime_seconds: float) -> None:
        self._lifetime = lifetime_seconds
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def add(self, pending: Pending) -> str:
        """The cookie that stands for ``pending``."""
        cookie = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            for key in [k for k, p in self._pending.items() if now - p.started > self._lifetime]:
                del self._pending[key]
            while len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[_digest(cookie)] = pending
        return cookie

    def take(self, cookie: str | None) -> Pending | None:
        """The sign-in ``cookie`` stands for, once; None if unknown, taken or too old."""
        if not cookie:
            return None
        with self._lock:
            pending = self._pending.pop(_digest(cookie), None)
        if pending is None or time.monotonic() - pending.started > self._lifetime:
            return None
        return pending
