"""Deliveries: files put into a home's inboxes the way a sender leaves them, finished and settled.

The drop folder takes only *settled* files (unchanged for a while: a sender may still be
writing), so every delivery a test means to be taken is back-dated by ``SETTLED_AGE`` seconds.
A test that means a file still being written writes it without ``settle``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from tests.support.paths import sample

SETTLED_AGE = 3600
"""Seconds a delivery is back-dated: far beyond the drop folder's settle time."""


def settle(path: Path) -> Path:
    """Back-date ``path`` (access and modification time) so the drop folder counts it as settled."""
    past = time.time() - SETTLED_AGE
    os.utime(path, (past, past))
    return path


def deliver(inbox: Path, name: str, content: str | bytes) -> Path:
    """Write a settled delivery ``name`` into the folder ``inbox`` (text is written as UTF-8)."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return settle(path)


def csv_text(rows: Iterable[str], header: str) -> str:
    """A CSV file's text: the header line, then one row per line, each ending in a newline."""
    return header.rstrip("\n") + "\n" + "".join(row + "\n" for row in rows)


def copy_deliveries(files: Iterable[Path], home: Path) -> list[Path]:
    """Copy each file into ``home/inbox/<its folder's name>/`` as a settled delivery.

    Generated drops and the samples keep one folder per source (``inbox/caritas/…``), so a file's
    folder name is its source.
    """
    copied = []
    for path in files:
        target = home / "inbox" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied.append(settle(target))
    return copied


def copy_sample(home: Path, name: str = "standard") -> list[Path]:
    """Deliver every file of ``../shared/samples/<name>/inbox`` into the home's inboxes (read-only source)."""
    return copy_deliveries(sorted(p for p in (sample(name) / "inbox").glob("*/*") if p.is_file()), home)
