"""Helpers for tests that drive the real `kim-hub` CLI in subprocesses against one home."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from hub_db.database import make_engine, session_factory
from hub_db.dump import canonical_dump
from tests.conftest import kim_hub_command


def start_cli(home: Path, *args: str, capture: bool = True) -> subprocess.Popen:
    """`kim-hub ARGS --home HOME` as a child process (not waited for)."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([*kim_hub_command(), *args, "--home", str(home)], stdout=output, stderr=subprocess.PIPE, text=True)


def deliver(drops: Path, home: Path) -> None:
    """Copy generated drop files into the home's inboxes as finished (settled) deliveries."""
    past = time.time() - 60
    for path in (drops / "inbox").rglob("*.csv"):
        target = home / "inbox" / path.parent.name / path.name
        shutil.copyfile(path, target)
        os.utime(target, (past, past))


def dump(home: Path) -> dict:
    """The canonical dump of a home's SQLite database."""
    engine = make_engine(f"sqlite:///{home / 'var' / 'hub.db'}")
    with session_factory(engine)() as session:
        result = canonical_dump(session)
    engine.dispose()
    return result
