"""Handing freed memory back to the operating system after a burst of short-lived objects.

Parsing a million stored encodings allocates millions of mid-sized strings and dicts that are
freed again within seconds. glibc's allocator keeps such freed heap memory for reuse instead of
returning it, so a first link run kept more than a gigabyte it no longer used for the rest of the
run, on top of the clustering's own peak (figures: benchmarks/README.md). Elsewhere (other C libraries, other
platforms) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=1)
def _glibc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def return_freed_memory() -> bool:
    """Give the allocator's freed heap memory back to the OS; True if anything was released."""
    trim = _glibc_trim()
    return bool(trim(0)) if trim is not None else False
