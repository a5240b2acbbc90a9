"""A killed `kim-hub ingest` leaves nothing running: not its Prefect server, not its workers.

Cron timeouts and the out-of-memory killer end a sync run with SIGKILL, which no clean-up code
sees. The run below has a temporary Prefect API server and, for its big delivery, worker
processes; it is killed while they run, and every process it started must be gone shortly after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kim_hub.connectors.base import ExamplePerson
from kim_hub.connectors.provider_csv import ProviderCsvConnector
from tests.support import init_home, kim_hub_command, settle

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

ROWS = 12_000  # more than a file needs to be encoded in worker processes (pipeline.encode_pool)


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_killed_ingest_leaves_no_process_behind(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    persons = [
        ExamplePerson(f"R-{i}", f"Family{i % 997}", f"Given{i % 89}", f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}")
        for i in range(ROWS)
    ]
    settle(ProviderCsvConnector.example_delivery(home / "inbox" / "caritas", persons))
    run = subprocess.Popen(
        [*kim_hub_command(), "ingest", "--home", str(home)],
        env={**os.environ, "KIM_HUB_WORKERS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run.poll() is None:
        seen |= _descendants(run.pid)
        commands = [_command(pid) for pid in seen if _alive(pid)]
        if any("uvicorn" in c for c in commands) and any("multiprocessing" in c for c in commands):
            break
        time.sleep(0.1)
    assert run.poll() is None, "the run ended before its server and workers could be seen"
    seen |= _descendants(run.pid)
    assert any("uvicorn" in _command(pid) for pid in seen), "no temporary Prefect server was started"
    run.send_signal(signal.SIGKILL)
    run.wait()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and [pid for pid in seen if _alive(pid)]:
        time.sleep(0.2)
    survivors = {pid: _command(pid) for pid in seen if _alive(pid)}
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # do not leave them to the next test
    assert not survivors, f"still running after their parent was killed: {survivors}"
