"""Values a long-running process keeps between requests, only while something holds them open.

The web application opens the database and links on every request; a command does it once and
exits. So what is worth keeping (an engine per database URL, the loaded index per database) is
kept only inside a ``held()`` block, which the web application enters for its lifetime: outside
one nothing is kept and every caller makes its own. When the last block ends the values go,
each handed to ``release`` (an engine is disposed). Thread-safe: requests run in threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

V = TypeVar("V")


class KeptWhileUsed(Generic[V]):
    """Values by key, kept while at least one ``held()`` block is open."""

    def __init__(self, release: Callable[[V], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._values: dict[str, V] = {}
        self._release = release

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                gone = list(self._values.values()) if not self._users else []
                if gone:
                    self._values.clear()
            for value in gone:
                if self._release is not None:
                    self._release(value)

    def active(self) -> bool:
        with self._lock:
            return self._users > 0

    def get(self, key: str) -> V | None:
        with self._lock:
            return self._values.get(key)

    def put(self, key: str, value: V) -> bool:
        """Keep ``value`` under ``key`` if a block is open (False: nothing is kept)."""
        with self._lock:
            if self._users:
                self._values[key] = value
            return bool(self._users)

    def get_or_make(self, key: str, fits: Callable[[V], bool], make: Callable[[], V]) -> V | None:
        """The value under ``key`` if it still ``fits``, else a new one made and kept (the old one
        released), all under the lock; None when no block is open (nothing is kept)."""
        with self._lock:
            if not self._users:
                return None
            kept = self._values.get(key)
            if kept is not None and fits(kept):
                return kept
            if kept is not None and self._release is not None:
                self._release(kept)
            made = self._values[key] = make()
            return made

    def drop(self, key: str) -> V | None:
        with self._lock:
            return self._values.pop(key, None)
