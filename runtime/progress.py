"""Progress of a long run, told to whoever watches it (a terminal's bar), or to no one.

The pipeline says how far it is (``begin("read", 5482, "caritas")``, ``advance("encode", 2000)``)
without knowing whether anyone listens. By default no one does, and a call costs a global lookup:
a flow run by `kim-hub serve`, a test, cron or a pipe never has a watcher. The command line sets
one for the length of one command when its stderr is a terminal (``cli.progress``). What is told
is phase names, counts and a label (a source's name, a step), never a value or a file name: a
sender may have named a file after a person.

The phases of an ingest (``PHASES``), each counted where the pipeline does the work:

    read     rows taken from the source's deliveries (``pipeline.encoded_file``)
    encode   rows mapped and pseudonymised (``pipeline.encoded_file``)
    store    rows whose records are written into the file's transaction (``pipeline.encoded_file``)
    link     pieces of candidate pairs scored (``hub_db.master_index``), its steps as labels

Watchers may be called from several threads at once (the link scores pieces in threads).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

PHASES = ("read", "encode", "store", "link")
READ_BATCH = 1000  # rows counted locally before the watcher hears of them: one call per row would cost

Item = TypeVar("Item")


class ProgressWatcher(Protocol):
    """Whoever shows the progress (``cli.progress``): it must be cheap and thread-safe."""

    def begin(self, phase: str, total: int | None, label: str) -> None:
        """The phase starts (again) at zero with ``total`` steps expected (None: not known)."""

    def advance(self, phase: str, count: int) -> None:
        """``count`` more steps of the phase are done."""

    def note(self, phase: str, label: str) -> None:
        """The phase's label changes (a step within it), its count does not."""

    def settle(self, phase: str) -> None:
        """The phase is done: what it did is its total."""


_watcher: ProgressWatcher | None = None


@contextmanager
def watched_by(watcher: ProgressWatcher) -> Iterator[None]:
    """Tell ``watcher`` the progress of everything this process does inside the block."""
    global _watcher  # noqa: PLW0603 - one watcher per process, like the crash points' environment
    before, _watcher = _watcher, watcher
    try:
        yield
    finally:
        _watcher = before


def watching() -> bool:
    """Does anyone watch? (Work done only for the bar, such as estimating a file's rows, is skipped when not.)"""
    return _watcher is not None


def begin(phase: str, total: int | None, label: str = "") -> None:
    """A phase starts at zero, ``total`` steps expected (None: not known yet)."""
    if (watcher := _watcher) is not None:
        watcher.begin(phase, total, label)


def advance(phase: str, count: int = 1) -> None:
    """``count`` more steps of a phase are done."""
    if count and (watcher := _watcher) is not None:
        watcher.advance(phase, count)


def note(phase: str, label: str) -> None:
    """The phase's label changes (``link``: loading, learning, scoring, clustering); counts stay."""
    if (watcher := _watcher) is not None:
        watcher.note(phase, label)


def settle(*phases: str) -> None:
    """The phases are done: an estimated total gives way to what was done."""
    if (watcher := _watcher) is not None:
        for phase in phases:
            watcher.settle(phase)


def counted(items: Iterable[Item], phase: str, batch: int = READ_BATCH) -> Iterator[Item]:
    """``items`` as they are taken, each counted as a step of ``phase`` (told in batches)."""
    if _watcher is None:
        yield from items
        return
    pending = 0
    try:
        for item in items:
            yield item
            pending += 1
            if pending == batch:
                advance(phase, pending)
                pending = 0
    finally:
        advance(phase, pending)
