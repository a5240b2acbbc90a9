"""Who may read what below the home: the folders' modes and groups, made and checked.

The model (docs/operations.md, "Who may read what: file modes and groups"; the modes are
``runtime.file_modes``):

* The hub's account owns everything. The home, ``inbox/`` and ``outbox/`` are 0711: an account
  may pass through them to a folder it has a right to, and may list none of them.
* Each body has a group: ``kim-<source>``, unless hub.toml names another (``group = "…"``). Its
  inbox is 2770 in that group (the body's account writes deliveries; the hub's account, a member
  of every body's group, reads them), its outbox and the folders in it 2750 (the body reads its
  receipts and summaries, files 0640, and writes nothing). Both are setgid, so what is made in
  them carries the body's group. A group that does not exist on the system is replaced by the
  hub's own primary group, which no body is in: that body's folders are then closed to it.
* Everything else (hub.toml, ``var/`` with the database and Prefect's state, the key folder,
  ``archive/``, ``failed/``, ``processing/``, ``reports/``, and ``codes/`` where the operator
  made one) is the hub's account's alone: folders 0700, files 0600.

`kim-hub init` and `sources add` make the folders so and put right those that are not
(``prepare_home``, ``prepare_source``); a run makes a missing body folder the same way, but
never changes one that is there (``ensure_source``); `kim-hub sources check` names every
deviation with the command that fixes it (``check_access``). Paths and modes are not personal
data; files in the private rooms are counted per folder rather than listed (their names are the
senders'). The key folder is not handled here: ``hub_db.keystore`` refuses a loose one and never
changes its mode.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kim_hub.pipeline.home import HubConfig, HubHome, SourceConfig
from kim_hub.runtime.file_modes import (
    GROUP_OR_OTHERS,
    INBOX_MODE,
    OUTBOX_FILE_MODE,
    OUTBOX_MODE,
    PASSAGE_MODE,
    PRIVATE_FILE_MODE,
    PRIVATE_FOLDER_MODE,
    make_folder,
)

GROUP_PREFIX = "kim-"
PRIVATE_ROOMS = ("var", "reports", "archive", "failed", "processing")
OPTIONAL_ROOMS = ("codes",)  # private too, but made by the operator (the installation's code lists), never by the hub
HOME_SCOPE = "home"  # the scope of a finding that concerns no one source


@dataclass(frozen=True)
class BodyGroup:
    """The OS group that opens a body's inbox and outbox to the body's account.

    ``gid`` is the group's id, or the hub's own primary group when ``exists`` is false;
    ``hub_member``: the hub's account is in it (or is root), so it can give folders to the group
    and read what the body's account delivers."""

    name: str
    gid: int
    exists: bool
    hub_member: bool


@dataclass(frozen=True)
class Folder:
    """A folder of the model: where, its exact mode, and its group (None: the hub's, unchecked).

    ``follow``: the operator may have put a link there (a top-level folder on another disk or
    share). A body's own folders are never followed: a link there is a deviation, not a way."""

    path: Path
    mode: int
    group: BodyGroup | None = None
    follow: bool = True


@dataclass(frozen=True)
class Deviation:
    """One place where the home differs from the model: for the operator, never personal."""

    scope: str  # the source it concerns, or HOME_SCOPE
    path: Path
    problem: str
    fix: str


def body_group(source: str, settings: SourceConfig) -> BodyGroup:
    """The group of a body's folders: the configured one, else ``kim-<source>``; the hub's own
    primary group where that group does not exist on this system."""
    name = settings.group or f"{GROUP_PREFIX}{source}"
    try:
        gid = grp.getgrnam(name).gr_gid
    except KeyError:
        return BodyGroup(name, os.getegid(), exists=False, hub_member=True)
    member = os.geteuid() == 0 or gid == os.getegid() or gid in os.getgroups()
    return BodyGroup(name, gid, exists=True, hub_member=member)


def home_folders(home: HubHome) -> list[Folder]:
    """The folders every home has, parents first."""
    return [
        Folder(home.path, PASSAGE_MODE),
        Folder(home.path / "inbox", PASSAGE_MODE),
        Folder(home.path / "outbox", PASSAGE_MODE),
        *(Folder(home.path / room, PRIVATE_FOLDER_MODE) for room in PRIVATE_ROOMS),
    ]


def source_folders(home: HubHome, source: str, group: BodyGroup) -> list[Folder]:
    """A body's folders, parents first: its inbox, its outbox and the outbox's two folders."""
    return [
        Folder(home.inbox(source), INBOX_MODE, group, follow=False),
        Folder(home.outbox(source, "receipts").parent, OUTBOX_MODE, group, follow=False),
        Folder(home.outbox(source, "receipts"), OUTBOX_MODE, group, follow=False),
        Folder(home.outbox(source, "summaries"), OUTBOX_MODE, group, follow=False),
    ]


def prepare_home(home: HubHome, config: HubConfig) -> None:
    """`kim-hub init`: every folder of the model made or put right, and the private rooms and
    hub.toml closed to group and others. Best effort: what the hub's account may not change
    (another account's file, a share without modes) stays as it is, and `sources check` names it."""
    for folder in home_folders(home):
        _make(folder, correct=True)
    for source, settings in config.sources.items():
        for folder in source_folders(home, source, body_group(source, settings)):
            _make(folder, correct=True)
    _close(home.config_file)
    for room in OPTIONAL_ROOMS:
        _close(home.path / room)
    for room in (*PRIVATE_ROOMS, *OPTIONAL_ROOMS):
        for path in _entries_below(home.path / room):
            _close(path)


def prepare_source(home: HubHome, config: HubConfig, source: str) -> None:
    """`kim-hub sources add`: the body's folders made or put right (and the passages to them)."""
    for folder in _passages(home):
        _make(folder, correct=False)
    for folder in source_folders(home, source, body_group(source, config.sources[source])):
        _make(folder, correct=True)


def ensure_source(home: HubHome, config: HubConfig, source: str) -> None:
    """Before a run touches a body's folders: make the missing ones as the model says (a source
    added to hub.toml by hand gets them at its first run). Folders that exist are left as they
    are: changing them is `kim-hub init`'s decision."""
    for folder in [*_passages(home), *source_folders(home, source, body_group(source, config.sources[source]))]:
        _make(folder, correct=False)


def check_access(home: HubHome, config: HubConfig) -> list[Deviation]:
    """Every deviation from the model, with the command that fixes it (never raises)."""
    found = _closed_ancestors(home)
    for folder in home_folders(home):
        found += _check_folder(HOME_SCOPE, folder)
    found += _check_config_file(home)
    for room in OPTIONAL_ROOMS:
        found += _open_room(home.path / room)
    for room in (*PRIVATE_ROOMS, *OPTIONAL_ROOMS):
        found += _open_entries(home.path / room)
    for source, settings in config.sources.items():
        group = body_group(source, settings)
        found += _check_group(source, group, home.inbox(source))
        for folder in source_folders(home, source, group):
            found += _check_folder(source, folder)
        found += _outbox_files(source, home.outbox(source, "receipts").parent, group)
    return found


def _passages(home: HubHome) -> list[Folder]:
    return [f for f in home_folders(home) if f.path.name in ("inbox", "outbox")]


def _make(folder: Folder, correct: bool) -> None:
    """Create ``folder`` if missing (its parent exists: folders come parents first); set its
    mode and group if it was created or ``correct`` says so."""
    try:
        created = make_folder(folder.path, PRIVATE_FOLDER_MODE)
    except OSError:
        return  # its parent is missing or not ours to write in: `sources check` says so
    if created or correct:
        _set(folder)


def _set(folder: Folder) -> None:
    """Mode and group of a folder, through a descriptor opened without following a link where a
    link is not expected. A shared folder (sticky bit, such as /tmp) named as the home is never
    changed: it is other accounts' too."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if folder.follow else os.O_NOFOLLOW)
    try:
        descriptor = os.open(folder.path, flags)
    except OSError:
        return  # a link or a file where a body's folder belongs: `sources check` says so
    try:
        if os.fstat(descriptor).st_mode & stat.S_ISVTX:
            return
        with contextlib.suppress(OSError):  # a group the hub's account is not in (chown first: it may clear setgid)
            if folder.group is not None:
                os.fchown(descriptor, -1, folder.group.gid)
        with contextlib.suppress(OSError):
            os.fchmod(descriptor, folder.mode)
    finally:
        os.close(descriptor)


def _close(path: Path) -> None:
    """Take every access of group and others from a file or folder (a link is left alone)."""
    try:
        found = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(found.st_mode) or not found.st_mode & GROUP_OR_OTHERS:
        return
    with contextlib.suppress(OSError):  # another account's file: `sources check` names its folder
        os.chmod(path, stat.S_IMODE(found.st_mode) & ~GROUP_OR_OTHERS)


def _entries_below(room: Path, follow: bool = True) -> Iterator[Path]:
    """Every file and folder below ``room`` (not itself), links not followed below it (nor
    ``room`` itself, unless ``follow``)."""
    if not follow and room.is_symlink():
        return
    for folder, folders, files in os.walk(room):
        for name in (*folders, *files):
            yield Path(folder) / name


def _check_folder(scope: str, folder: Folder) -> list[Deviation]:
    path = folder.path
    try:
        found = os.stat(path) if folder.follow else os.lstat(path)
    except FileNotFoundError:
        return [Deviation(scope, path, "missing", "kim-hub init")]
    except OSError:
        return [Deviation(scope, path, "cannot be looked at by the hub's account", f"ls -ld {path}")]
    if not stat.S_ISDIR(found.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(found.st_mode) else "not a folder"
        return [Deviation(scope, path, f"{kind}; expected a folder", "move it away, then: kim-hub init")]
    deviations = []
    mode = stat.S_IMODE(found.st_mode)
    if mode != folder.mode:
        deviations.append(
            Deviation(scope, path, f"mode {mode:04o}, expected {folder.mode:04o}", f"chmod {folder.mode:04o} {path}")
        )
    group = folder.group
    if group is not None and found.st_gid != group.gid:
        expected = group.name if group.exists else f"{_group_name(group.gid)} (the hub's own, as {group.name} does not exist)"
        deviations.append(
            Deviation(
                scope, path, f"group {_group_name(found.st_gid)}, expected {expected}", f"chgrp {_group_name(group.gid)} {path}"
            )
        )
    return deviations


def _closed_ancestors(home: HubHome) -> list[Deviation]:
    """Folders above the home that other accounts cannot pass through: no body could reach its
    inbox or outbox. (Passage through a shared group would do as well; the model uses o+x.)"""
    found = []
    for folder in home.path.parents:
        with contextlib.suppress(OSError):
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                problem = "other accounts cannot pass through this folder above the home to their inbox and outbox"
                found.append(Deviation(HOME_SCOPE, folder, problem, f"chmod o+x {folder}"))
    return found


def _check_config_file(home: HubHome) -> list[Deviation]:
    try:
        mode = stat.S_IMODE(os.lstat(home.config_file).st_mode)
    except OSError:
        return []  # missing: the command that loaded it said so already
    if not mode & GROUP_OR_OTHERS:
        return []
    path = home.config_file
    return [Deviation(HOME_SCOPE, path, f"mode {mode:04o}, expected {PRIVATE_FILE_MODE:04o}", f"chmod 600 {path}")]


def _open_room(room: Path) -> list[Deviation]:
    """An optional private room, if there, open to group or others."""
    try:
        mode = stat.S_IMODE(os.lstat(room).st_mode)
    except OSError:
        return []
    if not mode & GROUP_OR_OTHERS:
        return []
    return [Deviation(HOME_SCOPE, room, f"mode {mode:04o}, expected {PRIVATE_FOLDER_MODE:04o}", f"chmod -R go= {room}")]


def _open_entries(room: Path) -> list[Deviation]:
    """Files and folders below a private room that group or others may access, counted per folder."""
    counts: Counter[Path] = Counter()
    for path in _entries_below(room):
        with contextlib.suppress(OSError):
            found = os.lstat(path)
            if not stat.S_ISLNK(found.st_mode) and found.st_mode & GROUP_OR_OTHERS:
                counts[path.parent] += 1
    return [
        Deviation(
            HOME_SCOPE,
            folder,
            f"{count} {'entry' if count == 1 else 'entries'} open to group or others, expected folders "
            f"{PRIVATE_FOLDER_MODE:04o} and files {PRIVATE_FILE_MODE:04o}",
            f"chmod -R go= {room}",
        )
        for folder, count in sorted(counts.items())
    ]


def _outbox_files(source: str, outbox: Path, group: BodyGroup) -> list[Deviation]:
    """Files in a body's outbox that are not 0640 in the body's group, counted per folder."""
    counts: Counter[Path] = Counter()
    for path in _entries_below(outbox, follow=False):
        with contextlib.suppress(OSError):
            found = os.lstat(path)
            if stat.S_ISREG(found.st_mode) and (stat.S_IMODE(found.st_mode) != OUTBOX_FILE_MODE or found.st_gid != group.gid):
                counts[path.parent] += 1
    name = _group_name(group.gid)
    return [
        Deviation(
            source,
            folder,
            f"{count} {'file' if count == 1 else 'files'} not {OUTBOX_FILE_MODE:04o} in group {name}",
            f"chgrp {name} {folder}/* && chmod {OUTBOX_FILE_MODE:04o} {folder}/*",
        )
        for folder, count in sorted(counts.items())
    ]


def _check_group(source: str, group: BodyGroup, inbox: Path) -> list[Deviation]:
    hub_account = _user_name(os.geteuid())
    if not group.exists:
        join = "" if os.geteuid() == 0 else f"usermod -aG {group.name} {hub_account} && "  # root needs no membership
        return [
            Deviation(
                source,
                inbox,
                f"group {group.name} does not exist: the body's inbox and outbox use the hub's own group "
                f"({_group_name(group.gid)}), which closes them to the body's account",
                f"groupadd {group.name} && {join}usermod -aG {group.name} <the body's account> && kim-hub init",
            )
        ]
    if not group.hub_member:
        return [
            Deviation(
                source,
                inbox,
                f"the hub's account {hub_account} is not in group {group.name}: it can neither give the body's "
                "folders to the group nor read deliveries the body writes for the group",
                f"usermod -aG {group.name} {hub_account}, then log in again and run: kim-hub init",
            )
        ]
    return []


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
