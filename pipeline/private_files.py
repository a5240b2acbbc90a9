"""Files the hub writes whole: replaced atomically, private to their owner, never through a link.

hub.toml and the exports of `--out` are read by the next command or by a coordinator's script, so
a reader must see the old file or the new one, never half of one: a crash or a full disk part-way
must not leave a truncated hub.toml that stops every command. The content goes into a temporary
file of the target's folder (same file system, so the rename is atomic), is flushed to disk, and
then renamed over the target.

Where the target is may be a path someone else prepared. The temporary file is created with
O_CREAT|O_EXCL (``tempfile.mkstemp``: a new file of this process, mode 0600, never an existing
file or a planted link at a guessable name), and a target that is a symbolic link is refused
rather than replaced or followed: the operator named a link, so what they meant is unclear.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from kim_hub.core.errors import ConfigError
from kim_hub.runtime.durability import sync_folder


def check_target(path: Path, what: str) -> None:
    """Refuse a target that is a symbolic link or exists as anything but a regular file.

    ``what`` names the target for the operator (``--out``, ``hub.toml``); a link is refused, not
    followed (it could point anywhere) and not replaced (the operator may rely on it)."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        raise ConfigError(f"{what} {path} is a symbolic link; refusing to write through it (name a regular file)")
    if not stat.S_ISREG(found.st_mode):
        raise ConfigError(f"{what} {path} exists and is not a regular file; refusing to replace it")


@contextlib.contextmanager
def replacing(path: Path, what: str) -> Iterator[TextIO]:
    """A text handle (UTF-8) whose content replaces ``path`` atomically when the block ends well.

    The new file has mode 0600. If the block or the write fails, the temporary file is removed
    and the target is left as it was. A missing folder of the target is created (as the report's
    `--out` always did)."""
    check_target(path, what)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        check_target(path, what)  # a link planted while the content was written is refused too
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def write_replacing(path: Path, text: str, what: str) -> None:
    """Write ``text`` as the whole new content of ``path`` (see ``replacing``)."""
    with replacing(path, what) as handle:
        handle.write(text)
