"""`kim-hub ingest` on a terminal (a pseudo-terminal): the progress bar per phase on stderr; in a
pipe: none. Then the no-op runs: the report left alone ("unchanged") when nothing it is made from
changed, the run before having done something or not."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import time
from pathlib import Path

import pytest

from kim_hub.synth import generate
from tests.support import copy_deliveries, init_home, run_cli
from tests.support.cli import CLI_TIMEOUT, _environment, kim_hub_command

pytestmark = pytest.mark.e2e
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PERSONS, SEED = 150, 7


def _on_a_terminal(home: Path, api: str, *args: str) -> tuple[int, str]:
    """`kim-hub ingest ARGS` with stderr (and stdin, stdout) on a pseudo-terminal; its exit code
    and everything it wrote, control sequences removed."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [*kim_hub_command(), "ingest", *args, "--home", str(home)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**(_environment(None, api) or {}), "COLUMNS": "120", "TERM": "xterm"},
        close_fds=True,
    )
    os.close(follower)
    chunks, deadline = [], time.monotonic() + CLI_TIMEOUT
    while time.monotonic() < deadline:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its side: all was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    code = child.wait(timeout=60)
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_progress_bar_on_a_terminal_and_the_report_only_when_changed(tmp_path: Path, prefect_api: str) -> None:
    home = init_home(tmp_path / "home", api=prefect_api)
    drops = tmp_path / "drops"
    generate(drops, PERSONS, SEED, workers=1)
    delivered = copy_deliveries([*(drops / "inbox").rglob("*.csv")], home)
    code, shown = _on_a_terminal(home, prefect_api)
    assert code in (0, 1), shown[-3000:]
    for phase in ("read", "encode", "store", "link"):
        assert re.search(rf"^\W*{phase} .*\d+/\d+ .*/s", shown, re.MULTILINE), f"no {phase} line:\n{shown[-3000:]}"
    assert re.search(r"records linked", shown)
    assert "records/s" in shown
    for path in delivered:  # a file's name may be a person's: never on the terminal
        assert path.stem not in shown
    assert "report written" in shown

    piped = run_cli("ingest", home=home, api=prefect_api)  # nothing new; the run before did something
    assert "read " not in piped.stderr and "\x1b[" not in piped.stderr  # no bar without a terminal
    assert "report unchanged since" in piped.stdout  # a run with nothing to tell is no reason to make it again
    again = run_cli("ingest", home=home, api=prefect_api)  # nothing new, and the same quiet run as before
    assert re.search(r"report unchanged since \S+ \(nothing it shows changed\): .*report\.html", again.stdout), again.stdout
    code, shown = _on_a_terminal(home, prefect_api, "--quiet")
    assert code in (0, 1) and "report unchanged" in shown
    assert not re.search(r"^\W*(read|encode|store|link) ", shown, re.MULTILINE), shown
