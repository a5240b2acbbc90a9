"""IN (...) lists in chunks: a statement may bind only so many parameters.

PostgreSQL allows 65,535 bound parameters per statement and SQLite's default limit is lower on
older builds, so queries over a set of ids go in chunks of ``IN_CHUNK``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
IN_CHUNK = 1000  # bound parameters per IN (...)


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> list[Sequence[T]]:
    """``values`` in slices of at most ``size``."""
    return [values[start : start + size] for start in range(0, len(values), size)]
