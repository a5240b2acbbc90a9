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
  when it was rejected whole), where it is kept for its period (``purge_archive``,
  ``purge_failed``; pipeline/copies.py says which and when). A crash in between leaves it in processing/, where the next run
  picks it up first; the ledger (content hash) makes that second pass a no-op for the database.
  Each pick-up is counted (a hidden ``.attempts-<name>`` beside the file, gone with the file), so
  the hub can set aside a file it keeps dying on instead of retrying it for ever.
* what the hub takes in is private to the hub's account from the claim on: the claimed file is
  made 0600 (whatever mode its sender gave it), processing/, archive/ and failed/ are 0700. A
  file the hub's account cannot change (another account's delivery, and the hub is not root)
  is copied into a new file of the hub's, 0600, when it moves on, and the sender's is removed.

The folder knows files only; whether a file's content was already imported is the ledger's job.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from kim_hub.runtime.file_modes import PRIVATE_FILE_MODE, make_private_folders

if sys.platform != "win32":  # Windows has no flock: one hub process per home there
    import fcntl

PARTIAL_SUFFIXES = (".part", ".tmp", ".partial")
SECOND_LOOK_SECONDS = 1.0  # between the two looks at a settled file (at most half the settle time)
STILL_FOR = 4  # settle times a file has stood still for to be taken without a second look
FUTURE_TOLERANCE_SECONDS = 60  # a modification time further ahead than this is a wrong clock
NOT_A_REGULAR_FILE = "not one regular file (a symlink, a pipe or a hard link)"
NOT_READABLE = "not readable by the hub's account (the file's mode or group keeps it out: deliver it group-readable)"


@dataclass(frozen=True)
class Claim:
    """A file this process claimed and holds; ``refused`` says why it must not be read at all.

    ``path`` is where the file lies (in processing/: its name, and where it moves on from);
    ``readable`` is what to read it by: a name for the descriptor the claim opened and checked,
    so every read gets exactly those bytes whatever is put at ``path`` meanwhile."""

    path: Path
    refused: str | None = None
    future_dated: bool = False  # its modification time lay in the future (a sender's clock is wrong)
    readable: Path | None = None

    @property
    def to_read(self) -> Path:
        return self.readable or self.path


DEFAULT_SETTLE_SECONDS = 30.0  # long enough for an upload that stalls for a while; .part names are safer


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

        A file has settled when it has not been modified for ``settle_seconds``. One that settled
        only just (less than ``STILL_FOR`` settle times ago) is taken when its size and
        modification time are the same at a second look a moment later (an upload that stalled
        and resumes changes one of them); one that has stood still for longer is taken at the
        first look, so a sync does not wait a second per source for files that lay there for
        minutes. A modification time in the future (a sender's clock is wrong) would never age:
        such a file is taken once it stands still across the two looks, and its claim says it
        was future-dated. Every delivered file is taken, whatever its type: one that no connector
        reads is returned to the sender through failed/ and a receipt, instead of lying unnoticed."""
        leftovers = _claimed_entries(self.processing)
        now = time.time()
        first = {p: _look(p) for p in _regular_files(self.inbox)}
        age = {p: now - seen[1] / 1e9 for p, seen in first.items() if seen}  # negative: future-dated
        candidates = [p for p, seconds in age.items() if seconds >= settle_seconds or seconds < 0]
        recent = {p for p in candidates if age[p] < STILL_FOR * settle_seconds}
        if recent:
            time.sleep(min(SECOND_LOOK_SECONDS, settle_seconds / 2))
        return leftovers + [p for p in candidates if p not in recent or _look(p) == first[p]]

    def has_deliveries(self) -> bool:
        """Is there anything ``pending`` could return, now or once it has settled: a file in the
        inbox or a leftover in processing/? One look, no waiting (a sync's look for work)."""
        return bool(_claimed_entries(self.processing) or _regular_files(self.inbox))

    def claim(self, path: Path) -> Path | None:
        """Move an inbox file into processing/ atomically; None if another run took it first."""
        if path.parent == self.processing:
            return path
        make_private_folders(self.processing)
        target = self.processing / path.name
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        return target

    @contextmanager
    def claimed(self, path: Path) -> Iterator[Claim | None]:
        """Claim a file and hold it for this process until the block ends (None: not ours).

        A leftover in processing/ that another live process holds (its lock is taken), or that
        was finished and moved on while we waited, is not ours. What the rename brought in is
        opened without following a symlink and without waiting on a pipe: an entry that turns
        out not to be one regular file (a sender swapped it for a symlink, a FIFO or a hard link
        between listing and claim) is ours to refuse (``Claim.refused``), never to read.
        """
        target = self.claim(path)
        if target is None:
            yield None
            return
        try:
            handle = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            yield None
            return
        except PermissionError:  # the sender's mode or group keeps the hub's account out
            yield Claim(target, refused=NOT_READABLE)
            return
        except OSError:  # ELOOP: a symlink; ENXIO and the like: a device or socket
            yield Claim(target, refused=NOT_A_REGULAR_FILE)
            return
        try:
            if not (_lock(handle) and _same_file(handle, target)):
                yield None
                return
            stat = os.fstat(handle)
            if not (S_ISREG(stat.st_mode) and stat.st_nlink == 1):
                yield Claim(target, refused=NOT_A_REGULAR_FILE)
                return
            future = stat.st_mtime > time.time() + FUTURE_TOLERANCE_SECONDS
            with contextlib.suppress(OSError):  # another account's file: made private when it moves on (finish)
                os.fchmod(handle, PRIVATE_FILE_MODE)
            os.utime(handle)  # from now on the file's time is its claim: archive retention counts from it
            with _descriptor_named(handle, target.name, self.processing) as readable:
                yield Claim(target, future_dated=future, readable=readable)
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
        """Move a processed file (or a refused entry, itself: a symlink is never followed) to
        archive/ or failed/, never overwriting an earlier one.

        A delivery (one regular file with one link) arrives there 0600 and the hub's: chmod-ed
        where the hub's account may, else copied into a file of its own (see ``_private_copy``).
        A refused entry is moved as it is: a symlink or a second hard link leads to a file that
        is not the delivery, whose mode is not the hub's to change."""
        folder = self.failed if failed else self.archive
        make_private_folders(folder)
        target = _free_name(folder, path.name)
        copied = not _made_private(path) and _private_copy(path, target)
        if not copied:
            os.replace(path, target)
        _attempts_file(path).unlink(missing_ok=True)
        return target

    def leftovers(self) -> list[Path]:
        """What lies in processing/: files in flight, or a crashed run's leftovers (``claimed``
        tells them apart: only a leftover's lock is free)."""
        return _claimed_entries(self.processing)

    def purge_archive(self, older_than_days: float | None) -> int:
        """Delete archived deliveries past their period (None: every one, for an erasure);
        returns how many."""
        return purge_folder(self.archive, older_than_days)

    def purge_failed(self, older_than_days: float | None) -> int:
        """Delete deliveries set aside in failed/ past their period (None: every one, for an
        erasure); returns how many. A refused entry (a symlink, a FIFO) goes as itself: the
        entry is removed, what a symlink points to is never touched."""
        return purge_folder(self.failed, older_than_days)


def purge_folder(folder: Path, older_than_days: float | None, dry_run: bool = False) -> int:
    """Remove the entries of ``folder`` (never a folder in it, never following a link) kept
    longer than ``older_than_days`` (None: all of them); returns how many (``dry_run``: only
    counts them, for `kim-hub retention --plan`).

    An entry is as old as ``kept_since`` says. A missing folder, or one that is a symlink,
    holds nothing of the hub's."""
    if folder.is_symlink() or not folder.is_dir():
        return 0
    cutoff = None if older_than_days is None else time.time() - older_than_days * 86_400
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
                if S_ISDIR(stat.st_mode) or (cutoff is not None and kept_since(stat) >= cutoff):
                    continue
                if not dry_run:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue  # gone meanwhile (another run purged it)
            removed += 1
    return removed


def kept_since(stat: os.stat_result) -> float:
    """Since when the hub holds an entry: the earlier of its modification time, which the claim
    sets to the moment of the claim (``claimed``), and its last status change (``st_ctime``,
    which the renames into processing/ and on set, and no sender can set back or ahead). So a
    refused entry, whose modification time is the sender's, is kept no longer than from its
    claim either, however far ahead the sender's clock is."""
    return min(stat.st_mtime, stat.st_ctime)


def _made_private(path: Path) -> bool:
    """Make a claimed delivery 0600; False when it is one and the hub's account may not change
    it (another account owns it). Anything but one regular file of one link is left as it is."""
    found = os.lstat(path)
    if not (S_ISREG(found.st_mode) and found.st_nlink == 1):
        return True
    try:
        os.chmod(path, PRIVATE_FILE_MODE)  # processing/ is the hub's alone: nothing is swapped in since the lstat
    except PermissionError:
        return False
    return True


def _private_copy(path: Path, target: Path) -> bool:
    """Put a copy of ``path`` owned by the hub's account, 0600, at ``target`` and remove
    ``path``; False (nothing changed) when the hub cannot read it either.

    The copy is a new file (O_EXCL) beside the target, flushed and then renamed into place, and
    the sender's file is removed after that: a crash in between leaves a second copy in
    processing/ (finished again by the next run, the ledger making it a duplicate), never none."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except PermissionError:
        return False
    with open(descriptor, "rb") as source:
        created, name = tempfile.mkstemp(prefix=".copy-", dir=target.parent)  # 0600, the hub's
        try:
            with open(created, "wb") as copy:
                shutil.copyfileobj(source, copy, 1 << 20)
                copy.flush()
                os.fsync(copy.fileno())
            os.replace(name, target)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
    path.unlink()
    return True


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


READER_PREFIX = ".reading-"  # hidden: never taken for a delivery (``_entries``)
STALE_READER_SECONDS = 60.0


@contextmanager
def _descriptor_named(handle: int, name: str, folder: Path) -> Iterator[Path | None]:
    """A path that opens the descriptor ``handle`` (Linux: ``/proc/<pid>/fd/N``) under the file's
    own name, for readers that take a path and look at its name and suffix: a symlink ``name``
    in a fresh hidden folder in ``folder`` (the source's processing/, private to the hub's
    account). Opening it always reaches the claimed inode, never what lies at the claimed path
    later. None where the platform has no such names (the claimed path is then read, in the
    hub's own folder).

    A process killed while it read leaves its folder behind, with a link that leads nowhere once
    the process is gone; the next claim in the folder removes such folders (``_sweep_readers``)."""
    magic = Path(f"/proc/{os.getpid()}/fd/{handle}")
    if not magic.exists():
        yield None
        return
    _sweep_readers(folder)
    reading = Path(tempfile.mkdtemp(prefix=READER_PREFIX, dir=folder))
    link = reading / name
    try:
        link.symlink_to(magic)
        yield link
    finally:
        link.unlink(missing_ok=True)
        reading.rmdir()


def _sweep_readers(folder: Path) -> None:
    """Remove the reader folders of processes that died reading (every link in it dangling, and
    older than a minute, so that a folder another process has just made is never taken)."""
    for reading in folder.glob(f"{READER_PREFIX}*"):
        with contextlib.suppress(OSError):  # another run swept it first, or it is not ours to remove
            links = list(reading.iterdir())
            if time.time() - reading.lstat().st_mtime < STALE_READER_SECONDS or any(link.exists() for link in links):
                continue
            for link in links:
                link.unlink()
            reading.rmdir()


def _same_file(handle: int, path: Path) -> bool:
    """Is the locked file still the one at ``path`` (not finished and moved on meanwhile)?"""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    locked = os.fstat(handle)
    return (here.st_dev, here.st_ino) == (locked.st_dev, locked.st_ino)


def _look(path: Path) -> tuple[int, int] | None:
    """(size, modification time in ns) of a listed file; None when another run claimed it since
    it was listed."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _regular_files(folder: Path) -> list[Path]:
    """Deliveries in an inbox: regular files only (a symlink could point anywhere outside it)."""
    return [path for path in _entries(folder) if not path.is_symlink() and path.is_file()]


def _claimed_entries(folder: Path) -> list[Path]:
    """Everything in processing/ but folders: what a claim's rename brought in, regular or not
    (a sender may have swapped the file for a symlink or a pipe before the claim); the claim
    refuses what is not one regular file, so nothing lies there for ever."""
    return [path for path in _entries(folder) if path.is_symlink() or not path.is_dir()]


def _entries(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir()) if not (p.name.startswith(".") or p.name.lower().endswith(PARTIAL_SUFFIXES))]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    counter = 1
    while target.exists():
        stem, dot, suffix = name.rpartition(".")
        target = folder / (f"{stem}.{counter}{dot}{suffix}" if dot else f"{name}.{counter}")
        counter += 1
    return target
