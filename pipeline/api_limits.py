"""The per-token rate limit of the providers' HTTP API: calls per minute, in a sliding window.

Kept in the memory of the web application's process (one `kim-hub web` serves a home), so a
restart forgets it; the limits that must survive a restart are stored (the bytes a body
delivered per day: ``pipeline.api_deliveries``). The clock is passed in, so tests need no sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` calls per key (a caller's credential) in any 60 seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str | int, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str | int, per_minute: int) -> int | None:
        """None if the call is admitted (and counted); else the seconds to wait (Retry-After)."""
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) >= per_minute:
                return max(1, math.ceil(calls[0] + WINDOW_SECONDS - now))
            calls.append(now)
            return None
