"""Who may read what the hub creates: the process's umask and the modes of its files and folders.

The hub's account owns the whole home; other accounts on the machine get nothing unless the
model below gives it to them (docs/operations.md, "Who may read what: file modes and groups"):

    home, inbox/, outbox/                     0711  a body's account passes through to its own folder, lists nothing
    inbox/<body>/                             2770  group kim-<body>, setgid: the body drops files, the hub takes them
    outbox/<body>/ and its folders            2750  group kim-<body>, setgid: the body reads its own outbox only
    files in outbox/<body>/                   0640  receipts and summaries, readable by the body's group
    everything else (hub.toml, var/, keys/,   0700 folders, 0600 files: the hub's account only
    archive/, failed/, processing/, reports/)

Every process of the hub sets the umask 077 first (``use_private_umask``), so whatever it or a
library it calls creates (SQLite's database with its -wal and -shm files, Prefect's state, the
reports) is private without each writer remembering to say so. The few entries bodies must reach
get their mode set explicitly (``make_folder``, an ``fchmod`` of a new file): the umask only takes
bits away, so a mode given at creation would lose the group bits the model needs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PASSAGE_MODE = 0o711  # the home, inbox/, outbox/: traversable, not listable
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
INBOX_MODE = 0o2770  # setgid: what a body drops carries the body's group, so the hub's account reads it through the group
OUTBOX_MODE = 0o2750  # setgid: what the hub writes there carries the body's group
OUTBOX_FILE_MODE = 0o640
GROUP_OR_OTHERS = 0o077  # any access bit for group or others


def use_private_umask() -> int:
    """Make every file and folder this process (and every process it starts) creates private to
    its account: the umask gets the bits of 077 added, never loses one an operator set. Returns
    the umask before."""
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    return previous


def make_folder(path: Path, mode: int) -> bool:
    """Create the folder ``path`` (its parent exists) with exactly ``mode``, whatever the umask;
    False when something was there already (left as it is: changing an existing folder is
    ``kim-hub init``'s decision, not a writer's). The folder is created 0700 and opened up to
    ``mode`` afterwards, so it is never more open than meant, not even for a moment."""
    try:
        os.mkdir(path, PRIVATE_FOLDER_MODE)
    except FileExistsError:
        return False
    with contextlib.suppress(OSError):  # a share that refuses modes: the folder stays 0700, closed (sources check says so)
        os.chmod(path, mode)
    return True


def make_folders(path: Path, mode: int) -> None:
    """``path`` and every missing folder above it, each made with exactly ``mode`` (``make_folder``);
    ``Path.mkdir(parents=True)`` would give the parents the umask's mode instead."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        make_folder(folder, mode)  # made meanwhile by another process: left as it is, checked where used


def make_private_folders(path: Path) -> None:
    """``path`` and every missing folder above it, each 0700."""
    make_folders(path, PRIVATE_FOLDER_MODE)
