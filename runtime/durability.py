"""A new or renamed file's name made durable: the folder that holds it synced to disk.

A file written and fsync-ed can still vanish in a crash if the folder entry naming it was not
written out; the hub's atomic replacements and its append-only ledger both need the name to last.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def sync_folder(folder: Path) -> None:
    """Sync ``folder`` so the names in it survive a crash. Some file systems cannot sync a folder;
    the files' own content is on disk already, so that is not worth failing a write for."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


__all__ = ["sync_folder"]
