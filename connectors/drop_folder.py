"""The life of a delivered file: inbox → processing → archive or failed.

Providers drop files into ``inbox/<source>/``; the hub must never read a file that is still being
written, never import one twice and never lose one. So:

* a file is *ready* when it is a regular file (no symlink, nothing hidden, no ``.part`` suffix)
  whose modification time has settled for a few seconds;
* it is *claimed* by an atomic rename into ``processing/<source>/`` — a second hub process that
  lists the inbox at the same moment either gets the file or a FileNotFoundError, never both;
* after its records are committed it moves to ``archive/<source>/`` (or ``failed/<source>/``
  when it was rejected whole). A crash in between leaves it in processing/, where the next run
  picks it up first; the ledger (content hash) makes that second pass a no-op for the database.

The folder knows files only; whether a file's content was already imported is the ledger's job.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

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
        fresh = [p for p in _regular_files(self.inbox) if now - p.stat().st_mtime >= settle_seconds]
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

    def finish(self, path: Path, failed: bool = False) -> Path:
        """Move a processed file to archive/ or failed/, never overwriting an earlier one."""
        folder = self.failed if failed else self.archive
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_name(folder, path.name)
        os.replace(path, target)
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
