"""A body's outbox folder, opened so that nothing the body plants in it is followed.

A body collects from its own outbox folder and may be able to write there too (the hub's modes
say read-only, but an operator may give more, or a share ignore modes), so whatever the hub finds
in it may be the body's: a symlink to another body's files, a FIFO that blocks whoever opens it, a
folder where a file belongs. The folder is therefore opened once, component by component below a
folder the hub owns, never through a symlink, and every entry is worked on through that
descriptor: lstat'ed before it is read, replaced or removed, opened without following and without
blocking, and written only as a fresh temporary file (``O_EXCL``) renamed into place, so no
existing path is ever opened for writing. What the hub creates there is the body's to read and
nobody else's (runtime.file_modes): folders 2750, files 0640, both in the group of the folder
they are made in (the body's group, ``kim-<body>``, set by `kim-hub init`). An entry that is not a plain file where the hub expects
one of its own is left alone, counted by kind and reported: the body and the kind of entry, never
its name (names carry record ids) nor its content.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Literal, overload

from kim_hub.core.errors import BadInputError
from kim_hub.runtime.file_modes import OUTBOX_FILE_MODE, OUTBOX_MODE

log = logging.getLogger(__name__)

TEMPORARY_PREFIX = ".tmp-"

_NO_FOLLOW = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a symlink fails (ELOOP), a FIFO does not block
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | _NO_FOLLOW
_READ = os.O_RDONLY | _NO_FOLLOW
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "folder"), (stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"))


class NotAFolderError(BadInputError):
    """An outbox folder (or a folder on the way to it) is something else, e.g. a symlink to
    another body's outbox: nothing is delivered, read or removed through it."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"an outbox folder is a {kind}, not a folder; nothing was delivered through it")
        self.kind = kind


def entry_kind(mode: int) -> str:
    """What an entry is (from its lstat mode), in the words of a warning."""
    return next((name for is_kind, name in _KINDS if is_kind(mode)), "socket" if stat.S_ISSOCK(mode) else "device")


class OutboxFolder:
    """One opened outbox folder; every entry is checked for what it is before it is touched.

    ``skipped`` counts what was left alone by kind (shared with the sink, so it holds what was
    found even when a delivery fails later)."""

    def __init__(self, descriptor: int, body: str, skipped: Counter[str]) -> None:
        self._descriptor = descriptor
        self.body = body
        self.skipped = skipped

    @classmethod
    def made(cls, root: Path, folder: Path, body: str, skipped: Counter[str]) -> OutboxFolder:
        """``folder`` below ``root``, opened (and made where missing) without following a symlink."""
        root.mkdir(parents=True, exist_ok=True)  # the hub's own: trusted as it is
        return cls(_open_below(root, folder, create=True), body, skipped)

    @classmethod
    def existing(cls, root: Path, folder: Path, body: str, skipped: Counter[str]) -> OutboxFolder | None:
        """``folder`` below ``root``, opened without following a symlink; None when it is missing."""
        if not root.is_dir():
            return None
        descriptor = _open_below(root, folder, create=False)
        return cls(descriptor, body, skipped) if descriptor is not None else None

    def close(self) -> None:
        os.close(self._descriptor)

    def __enter__(self) -> OutboxFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def names(self) -> list[str]:
        """The names of every entry, whatever it is (nothing is opened or followed)."""
        return sorted(os.listdir(self._descriptor))

    def skip(self, kind: str, role: str) -> None:
        """Count and report an entry that is left alone: by the body and the kind, never by name or content."""
        self.skipped[kind] += 1
        log.warning("outbox of %s: an entry named like %s is a %s; left as it is", self.body, role, kind)

    def is_file(self, name: str, role: str) -> bool:
        """Is ``name`` a plain file (lstat: a symlink is a symlink)? Anything else there is reported."""
        kind = self._kind(name)
        if kind is not None and kind != "file":
            self.skip(kind, role)
        return kind == "file"

    def read_bytes(self, name: str, role: str) -> bytes | None:
        """The content of a plain file with no other name; None (reported) for anything else.

        A second hard link could be another body's file, so its content is never copied here;
        the descriptor is checked again because the entry may have been swapped since the lstat."""
        if not self.is_file(name, role):
            return None
        try:
            descriptor = os.open(name, _READ, dir_fd=self._descriptor)
        except FileNotFoundError:
            return None
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            self.skip("symlink", role)
            return None
        with os.fdopen(descriptor, "rb") as handle:
            found = os.fstat(handle.fileno())
            if not stat.S_ISREG(found.st_mode):
                self.skip(entry_kind(found.st_mode), role)
                return None
            if found.st_nlink != 1:
                self.skip("hard-linked file", role)
                return None
            return handle.read()

    def write(self, name: str, data: bytes, role: str) -> bool:
        """Put ``data`` under ``name`` atomically: a fresh temporary file renamed over it. A rename
        replaces the entry itself, so even a symlink swapped in after the check is never written
        through. Anything but a plain file already there is left alone and reported (False)."""
        kind = self._kind(name)
        if kind is not None and kind != "file":
            self.skip(kind, role)
            return False
        temporary = self._temporary(data)
        try:
            os.rename(temporary, name, src_dir_fd=self._descriptor, dst_dir_fd=self._descriptor)
        except BaseException:
            self._discard(temporary)
            raise
        return True

    def remove(self, name: str, role: str) -> bool:
        """Remove a plain file the hub wrote; anything else under that name is left alone and reported."""
        if not self.is_file(name, role):
            return False
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self._descriptor)
            return True
        return False

    def _kind(self, name: str) -> str | None:
        """What the entry ``name`` is, without following it; None when there is none."""
        try:
            return entry_kind(os.stat(name, dir_fd=self._descriptor, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            return None

    def _temporary(self, data: bytes) -> str:
        """A new file (``O_EXCL``: never one that exists) holding ``data``; returns its name."""
        name = TEMPORARY_PREFIX + secrets.token_hex(8)
        descriptor = os.open(name, _CREATE, OUTBOX_FILE_MODE, dir_fd=self._descriptor)
        try:
            share_with_group(descriptor, os.fstat(self._descriptor).st_gid)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        except BaseException:
            self._discard(name)
            raise
        return name

    def _discard(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self._descriptor)


@overload
def _open_below(root: Path, folder: Path, create: Literal[True]) -> int: ...
@overload
def _open_below(root: Path, folder: Path, create: bool) -> int | None: ...
def _open_below(root: Path, folder: Path, create: bool) -> int | None:
    """A descriptor of ``folder``, opened one component at a time below ``root`` (trusted as it
    is) and never through a symlink. Raises NotAFolderError when a component is something else."""
    descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for part in folder.relative_to(root).parts:
        try:
            child = _open_child(descriptor, part, create)
        finally:
            os.close(descriptor)
        if child is None:
            return None
        descriptor = child
    return descriptor


def share_with_group(descriptor: int, group: int) -> None:
    """Give a new outbox file the body's read access: mode 0640 (the umask took the group's bit
    when it was created) in ``group``, the group of its folder. A group the hub's account is not
    in cannot be given, and a share may refuse modes: the file then stays as it was made (at most
    0640, the umask's bits taken) and `sources check` says so. Never worth failing a delivery for."""
    with contextlib.suppress(OSError):
        os.fchown(descriptor, -1, group)
    with contextlib.suppress(OSError):
        os.fchmod(descriptor, OUTBOX_FILE_MODE)


def _open_child(parent: int, name: str, create: bool) -> int | None:
    """The folder ``name`` in ``parent``, never through a symlink; None when it is missing. One
    this creates is 2750 in the group of ``parent`` (the setgid of the body's folder gives it
    that group, and the bit, anyway)."""
    created = False
    if create:
        with contextlib.suppress(FileExistsError):  # whatever is there already is checked by the open
            os.mkdir(name, 0o700, dir_fd=parent)
            created = True
    try:
        child = os.open(name, _FOLDER, dir_fd=parent)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        kind = entry_kind(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
        raise NotAFolderError(kind) from None
    if created:  # best effort, as for files (share_with_group)
        with contextlib.suppress(OSError):
            os.fchown(child, -1, os.fstat(parent).st_gid)
        with contextlib.suppress(OSError):
            os.fchmod(child, OUTBOX_MODE)
    return child
