"""Pausing Python's cyclic garbage collector while a bulk step builds millions of objects.

The collector runs whenever allocations outnumber frees by a few hundred, and while a heap only
grows (a file's rows read, its records collected, a million links written) every object it holds
is traversed again and again: unpickling a worker's records and a first link run over a million
records were several times and a tenth slower with it (benchmarks/README.md). Those objects form no
reference cycles, so nothing is lost by not looking for them; reference counting still frees
everything else at once. The collector resumes when the outermost pause ends (several threads
may pause at once: a count decides), so cycles a step does leave, such as the tracebacks of
rejected rows, are collected then, one step's worth at most.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """The pauses open in this process (the collector is one per process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.resume = False  # whether the collector ran when the first pause began


_pauses = _Pauses()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The collector off for the ``with`` block (and any overlapping ones), then as it was."""
    with _pauses.lock:
        if _pauses.open == 0:
            _pauses.resume = gc.isenabled()
            gc.disable()
        _pauses.open += 1
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.open -= 1
            if _pauses.open == 0 and _pauses.resume:
                gc.enable()
