"""The ingest's progress bar on a terminal: per phase (read, encode, store, link) the count, the
rate and the time left, drawn with rich.

The pipeline tells its progress through ``runtime.progress``; this module is the watcher a
command sets while a flow runs (``ingest_progress``), and only when the stream is a terminal and
the operator did not ask for quiet: cron, CI, pipes and `kim-hub serve` get nothing, and the
pipeline's calls then cost a global lookup. rich redraws at most ``REFRESH_PER_SECOND`` times a
second from its own thread; a count told in between only adds to a number. What it shows is what
the pipeline tells: phase names, counts and a source's name or a step of the link, never a file
name or a value.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from kim_hub.runtime.progress import watched_by

REFRESH_PER_SECOND = 4
UNITS = {"read": "records", "encode": "records", "store": "records", "link": "pieces"}


class RateColumn(ProgressColumn):
    """Steps a second of the phase, with their unit: rich's estimate over its last 30 s, else (a
    phase told in one or two steps) what was done over the time since it began."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        took = task.finished_time if task.finished_time is not None else task.elapsed  # a finished phase's clock stops
        if speed is None and task.completed and took:
            speed = task.completed / took
        unit = task.fields.get("unit", "")
        return Text("" if speed is None else f"{speed:,.0f} {unit}/s", style="progress.data.speed", no_wrap=True)


class CountColumn(ProgressColumn):
    """Done of expected (``?`` while not known); nothing on the title's line."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("phase"):
            return Text("")
        total = "?" if task.total is None else f"{int(task.total)}"
        return Text(f"{int(task.completed)}/{total}", style="progress.download", no_wrap=True)


class TerminalProgress:
    """A ``runtime.progress.ProgressWatcher`` drawing one line per phase (``Progress`` is thread-safe;
    the lock keeps a phase from being added twice by two threads)."""

    def __init__(self, stream: TextIO, title: str) -> None:
        console = Console(file=stream, force_terminal=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[phase]:<6}"),
            BarColumn(bar_width=12),
            CountColumn(),
            RateColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=console,
            refresh_per_second=REFRESH_PER_SECOND,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.bar.add_task(title, total=None, phase="", unit="")
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def _task(self, phase: str, total: int | None = None, label: str = "") -> TaskID:
        with self._lock:
            if phase not in self._tasks:
                self._tasks[phase] = self.bar.add_task(label, total=total, phase=phase, unit=UNITS.get(phase, ""))
            return self._tasks[phase]

    def begin(self, phase: str, total: int | None, label: str) -> None:
        self.bar.reset(self._task(phase, total, label), total=total, description=label)

    def advance(self, phase: str, count: int) -> None:
        self.bar.advance(self._task(phase), count)

    def note(self, phase: str, label: str) -> None:
        self.bar.update(self._task(phase), description=label)

    def settle(self, phase: str) -> None:
        task = self._task(phase)
        done = next(t.completed for t in self.bar.tasks if t.id == task)
        self.bar.update(task, total=done)


@contextmanager
def ingest_progress(title: str, quiet: bool = False, stream: TextIO | None = None) -> Iterator[None]:
    """Show the run's progress on ``stream`` (stderr) while the block runs, if it is a terminal
    and not ``quiet``; else show nothing and set no watcher."""
    stream = sys.stderr if stream is None else stream
    if quiet or not stream.isatty():
        yield
        return
    watcher = TerminalProgress(stream, title)
    with watcher.bar, watched_by(watcher):
        yield
