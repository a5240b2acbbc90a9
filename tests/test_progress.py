"""The ingest's progress bar (runtime.progress told by the pipeline, drawn by cli.progress):
phases and counts on a terminal, nothing at all when the stream is not one or the operator asked
for quiet, and never a file name."""

from __future__ import annotations

import io
import re

from kim_hub.cli.progress import ingest_progress
from kim_hub.runtime import progress
from tests.support import Hub
from tests.support.data import HEADER

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PHASE_LINE = re.compile(r"^\W*(read|encode|store|link) ")  # after the spinner, or the blank of a finished phase


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal (or not), keeping what is written to it."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def _drop(hub: Hub, rows: int) -> None:
    """``rows`` distinct persons in one provider CSV whose name is a person's."""
    columns = len(HEADER.strip().split(","))
    lines = [
        ",".join((f"C{n:05d}", f"Haddad{n}", "Samira", f"1990-01-{n % 28 + 1:02d}", *[""] * (columns - 4))) for n in range(rows)
    ]
    hub.drop_rows("caritas", "samira_haddad_export.csv", lines)


def test_phases_and_counts_on_a_terminal(hub: Hub) -> None:
    _drop(hub, 1200)
    terminal = FakeTerminal(tty=True)
    with ingest_progress("running sync flow", stream=terminal):
        assert progress.watching()
        outcome = hub.ingest("caritas")
        linked = hub.link()
    assert not progress.watching()  # the watcher ends with the block
    assert outcome.records_accepted == 1200 and linked.records_linked == 1200
    shown = ANSI.sub("", terminal.getvalue())
    last = {found[1]: line for line in shown.splitlines() if (found := PHASE_LINE.match(line))}  # the final drawing
    assert set(last) == {"read", "encode", "store", "link"}, shown[-2000:]
    for phase in ("read", "encode", "store"):
        assert "caritas" in last[phase] and "1200/1200" in last[phase], last[phase]
        assert "records/s" in last[phase], last[phase]
    assert "1200 records linked" in shown
    assert "running sync flow" in shown
    assert "samira" not in shown.lower() and "haddad" not in shown.lower()  # the file's name, its values: never


def test_nothing_written_without_a_terminal_or_when_quiet(hub: Hub) -> None:
    _drop(hub, 50)
    for terminal, quiet in ((FakeTerminal(tty=False), False), (FakeTerminal(tty=True), True)):
        with ingest_progress("running sync flow", quiet=quiet, stream=terminal):
            assert not progress.watching()
            hub.ingest("caritas")
            hub.link()
        assert terminal.getvalue() == ""


def test_estimate_is_replaced_by_what_was_done() -> None:
    """A CSV's estimate counts lines; the phase ends at the rows actually read (here fewer: a
    quoted field holds a line break)."""
    terminal = FakeTerminal(tty=True)
    with ingest_progress("t", stream=terminal):
        progress.begin("read", 10, "caritas")
        for _ in progress.counted(range(7), "read", batch=3):
            pass
        progress.settle("read")
    assert "7/7" in ANSI.sub("", terminal.getvalue())
