"""The life of a delivered file: inbox → processing → archive or failed.

Providers drop files into ``inbox/<source>/``; the hub must never read a file that is still being
written, never import one twice and never lose one. So:

* a file is *ready* when it is a regular file (no symlink, nothing hidden, no ``.part`` suffix)
  whose modification time has settled for a few seconds;
* it is *claimed* by an atomic rename into ``processing/<source>/`` — a second hub process that
  lists the inbox at the same moment either gets the file or a FileNotFoundError, never both —
  and locked (``flock``) while it is worked on: a file in processing/ is a crashed run's leftover
  only when nobody holds its lock (the kernel drops the lock of a dead process), so a second
  process never takes over a file the first is still importing;
* after its records are committed it moves to ``archive/<source>/`` (or ``failed/<source>/``
  when it was rejected whole). A crash in between leaves it in processing/, where the next run
  picks it up first; the ledger (content hash) makes that second pass a no-op for the database.
  Each pick-up is counted (a hidden ``.attempts-<name>`` beside the file, gone with the file), so
  the hub can set aside a file it keeps dying on instead of retrying it for ever.

The folder knows files only; whether a file's content was already imported is the ledger's job.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if sys.platform != "win32":  # Windows has no flock: one hub process per home there
    import fcntl

PARTIAL_SUFFIXES = (".part", ".tmp", ".partial")
DEFAULT_SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class DropFolder:
    """The folders of one source."""

    inbox: Path
    processing: Path
    archive: Path
    failed: Path

    @classmethod
    def under(cls, home: Path, source: str) -> DropFolder:
        return cls(
            inbox=home / "inbox" / source,
            processing=home / "processing" / source,
            archive=home / "archive" / source,
            failed=home / "failed" / source,
        )

    def pending(self, settle_seconds: float = DEFAULT_SETTLE_SECONDS) -> list[Path]:
        """Files to work on: leftovers of a crashed run first, then settled inbox files.

        Every delivered file is taken, whatever its type: one that no connector reads is
        returned to the sender through failed/ and a receipt, instead of lying unnoticed."""
        leftovers = _regular_files(self.processing)
        now = time.time()
        fresh = [p for p in _regular_files(self.inbox) if now - _modified(p) >= settle_seconds]
        return leftovers + fresh

    def claim(self, path: Path) -> Path | None:
        """Move an inbox file into processing/ atomically; None if another run took it first."""
        if path.parent == self.processing:
            return path
        self.processing.mkdir(parents=True, exist_ok=True)
        target = self.processing / path.name
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        return target

    @contextmanager
    def claimed(self, path: Path) -> Iterator[Path | None]:
        """Claim a file and hold it for this process until the block ends (None: not ours).

        A leftover in processing/ that another live process holds (its lock is taken), or that
        was finished and moved on while we waited, is not ours.
        """
        target = self.claim(path)
        try:
            handle = os.open(target, os.O_RDONLY) if target is not None else None
        except FileNotFoundError:
            handle = None
        if target is None or handle is None:
            yield None
            return
        try:
            yield target if _lock(handle) and _same_file(handle, target) else None
        finally:
            os.close(handle)  # releases the lock

    def note_attempt(self, path: Path) -> int:
        """Count one more pick-up of a claimed file; returns how many there have been, this one
        included (more than one: earlier runs died before finishing it)."""
        counter = _attempts_file(path)
        try:
            earlier = int(counter.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            earlier = 0
        counter.write_text(f"{earlier + 1}\n", encoding="ascii")
        return earlier + 1

    def finish(self, path: Path, failed: bool = False) -> Path:
        """Move a processed file to archive/ or failed/, never overwriting an earlier one."""
        folder = self.failed if failed else self.archive
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_name(folder, path.name)
        os.replace(path, target)
        _attempts_file(path).unlink(missing_ok=True)
        return target

    def purge_archive(self, older_than_days: float) -> int:
        """Delete archived files past their retention; returns how many."""
        if not self.archive.is_dir():
            return 0
        cutoff = time.time() - older_than_days * 86_400
        removed = 0
        for path in self.archive.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        return removed


def _attempts_file(path: Path) -> Path:
    """Where the pick-ups of a claimed file are counted: hidden, so never taken for a delivery."""
    return path.with_name(f".attempts-{path.name}")


def _lock(handle: int) -> bool:
    """Take the file's exclusive lock without waiting; False if another process holds it."""
    if sys.platform == "win32":
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(handle: int, path: Path) -> bool:
    """Is the locked file still the one at ``path`` (not finished and moved on meanwhile)?"""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    locked = os.fstat(handle)
    return (here.st_dev, here.st_ino) == (locked.st_dev, locked.st_ino)


def _modified(path: Path) -> float:
    """Its modification time; never settled (infinitely new) when another run claimed it since
    it was listed."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return math.inf


def _regular_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
            continue
        if path.is_symlink() or not path.is_file():
            continue  # a symlink could point anywhere outside the inbox
        files.append(path)
    return files


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    counter = 1
    while target.exists():
        stem, dot, suffix = name.rpartition(".")
        target = folder / (f"{stem}.{counter}{dot}{suffix}" if dot else f"{name}.{counter}")
        counter += 1
    return target
