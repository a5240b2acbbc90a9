"""The hub's secret keys: files outside the database, readable by their owner only.

The database holds only keyed encodings; whoever has the database without the key cannot compute
an encoding for a name. The key files and the database belong together (back them up together),
but never in the same place as the data they protect.

A key version ``k1`` is two files: ``hub-k1.key``, the master key every keyed encoding is derived
from (and the key that seals the stored encodings, ``linkage.sealed``), and ``record-ids-k1.key``, the AES-SIV key of the record ids the hub keeps only encrypted
(``linkage.record_ids``; the job centre's Kundennummer). They are made, made current, rotated and
destroyed together. A home made before the record-id key existed gets it from ``kim-hub init``
(which also encrypts the ids stored in clear until then); until then the keys refuse to load, so
no command stores a clear id next to encrypted ones. Beside them, ``scheme-k1`` names the encoding
scheme of the version (``linkage.keyed``: 2, diffused Bloom filters); a version made before the
marker existed has none and keeps scheme 1 (plain filters), so an installation's stored encodings
stay comparable with the ones it makes next, until a key rotation moves every record to a new
version of the current scheme. Apart from the versions: ``audit.key``,
which seals the audit log and is never rotated (``create_audit_key``, ``hub_db.audit_chain``), and
``erasure.key``, the erasure ledger's, which makes its keyed record digests and seals its chain,
never rotated either (``create_erasure_key``, ``hub_db.erasure_ledger``); and ``web-totp.key``, which
seals the web accounts' second-factor secrets in the database, made at the first enrolment
(``create_totp_key``, ``pipeline.web_totp``).

The key is trusted only where nobody else could have put or read it: the key folder and the key
file must be the running user's own, the folder closed to group and others (0700), the file too
(0600), and neither may be a symbolic link (a link hands the choice of key, or of where a new key
is written, to whoever can change the link). Anything else is refused (FatalError: the command
exits 3), with the fix; the hub never changes the mode of a folder it did not create, since a
folder someone made shared may be shared on purpose, and quietly closing it hides the exposure.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import re
import secrets
import stat
from pathlib import Path

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.linkage.keyed import DIFFUSED_BLOOM, PLAIN_BLOOM, SCHEME, EncodingKeys
from kim_hub.linkage.record_ids import KEY_BYTES as RECORD_ID_KEY_BYTES

KEY_BYTES = 32
DEFAULT_KEY_ID = "k1"
AUDIT_KEY_FILE = "audit.key"
ERASURE_KEY_FILE = "erasure.key"
TOTP_KEY_FILE = "web-totp.key"
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # non-blocking: a FIFO planted there must not hang us


def key_path(key_dir: Path, key_id: str) -> Path:
    """The key file of a key version; the id becomes part of a file name, so it is one plain word."""
    if not KEY_ID.fullmatch(key_id):
        raise ConfigError(f"key folder {key_dir}: a key id must be letters, digits, '-' or '_'")
    return key_dir / f"hub-{key_id}.key"


def record_id_key_path(key_dir: Path, key_id: str) -> Path:
    """The record-id key file of a key version (``record-ids-k1.key``)."""
    key_path(key_dir, key_id)  # the same rule for the id
    return key_dir / f"record-ids-{key_id}.key"


def scheme_path(key_dir: Path, key_id: str) -> Path:
    """The file naming a key version's encoding scheme (``scheme-k1``); missing: scheme 1."""
    key_path(key_dir, key_id)  # the same rule for the id
    return key_dir / f"scheme-{key_id}"


def create_key(key_dir: Path, key_id: str = DEFAULT_KEY_ID, make_current: bool = True) -> Path:
    """Write a new random key version (mode 0600, folder 0700): its master key and its record-id
    key, each only where it is missing; an existing key is never overwritten. A new master key
    gets the current encoding scheme (``write_scheme``); an existing one keeps its own. Returns
    the master key's path.

    The folder is created 0700 here if it is missing; an existing folder is checked, never
    chmod-ed: a loose, foreign or linked one is refused (FatalError)."""
    _private_folder(key_dir)
    path = key_path(key_dir, key_id)
    created = _write_new_key(path, KEY_BYTES)
    if created:
        write_scheme(key_dir, key_id, SCHEME)
    _write_new_key(record_id_key_path(key_dir, key_id), RECORD_ID_KEY_BYTES)
    if make_current and created:
        set_current(key_dir, key_id)
    return path


def _write_new_key(path: Path, size: int) -> bool:
    """A new random key of ``size`` bytes at ``path`` unless something is there (a link there is
    left for load_keys to refuse, never followed); True when it was written."""
    if os.path.lexists(path):
        return False
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(size)).decode() + "\n")
    return True


def write_scheme(key_dir: Path, key_id: str, scheme: int) -> None:
    """Name the encoding scheme of a key version (atomic, like ``current``)."""
    temporary = key_dir / f".scheme-{key_id}.tmp"
    temporary.write_text(f"{scheme}\n")
    os.replace(temporary, scheme_path(key_dir, key_id))


def read_scheme(key_dir: Path, key_id: str) -> int:
    """The encoding scheme of a key version: 1 (plain Bloom filters) where no marker names one."""
    path = scheme_path(key_dir, key_id)
    if not os.path.lexists(path):
        return PLAIN_BLOOM
    text = path.read_text().strip() if path.is_file() and not path.is_symlink() else ""
    if text not in {str(PLAIN_BLOOM), str(DIFFUSED_BLOOM)}:
        raise FatalError(f"key folder {key_dir}: {path.name} names no known encoding scheme; refusing to start")
    return int(text)


def audit_key_path(key_dir: Path) -> Path:
    """The audit log's key file: one key, not versioned (see ``create_audit_key``)."""
    return key_dir / AUDIT_KEY_FILE


def create_audit_key(key_dir: Path) -> Path:
    """Write the audit log's key if there is none (mode 0600, folder 0700, as ``create_key``).

    It seals the audit log's chain and makes the tokens of record ids in it, so it is never
    rotated with the encoding keys (`kim-hub keys rotate` destroys the old key, which would leave
    the log unverifiable and its tokens unsearchable) and never overwritten."""
    _private_folder(key_dir)
    path = audit_key_path(key_dir)
    _write_new_key(path, KEY_BYTES)  # not if anything is there: a link is left for load_audit_key to refuse
    return path


def load_audit_key(key_dir: Path) -> bytes:
    """The audit log's key, held to the same rules as the encoding keys (FatalError otherwise)."""
    check_key_folder(key_dir)
    path = audit_key_path(key_dir)
    if not os.path.lexists(path):
        raise ConfigError(f"no audit key in {key_dir}: run 'kim-hub init' (it adds one to an existing home)")
    return base64.b64decode(_read_key_file(path).strip())


def erasure_key_path(key_dir: Path) -> Path:
    """The erasure ledger's key file: one key, not versioned (see ``create_erasure_key``)."""
    return key_dir / ERASURE_KEY_FILE


def create_erasure_key(key_dir: Path) -> Path:
    """Write the erasure ledger's key if there is none (mode 0600, folder 0700, as ``create_key``).

    A tombstone names an erased record only by a digest made with this key, and a restored
    database is matched against those digests, so the key must outlive every backup: it is never
    rotated with the encoding keys (`kim-hub keys rotate` destroys the old key version) and never
    overwritten."""
    _private_folder(key_dir)
    path = erasure_key_path(key_dir)
    _write_new_key(path, KEY_BYTES)  # a link there is left for load_erasure_key to refuse
    return path


def load_erasure_key(key_dir: Path) -> bytes:
    """The erasure ledger's key, held to the same rules as the encoding keys (FatalError otherwise)."""
    check_key_folder(key_dir)
    path = erasure_key_path(key_dir)
    if not os.path.lexists(path):
        raise ConfigError(f"no erasure key in {key_dir}: run 'kim-hub init' (it adds one to an existing home)")
    return base64.b64decode(_read_key_file(path).strip())


def create_totp_key(key_dir: Path) -> Path:
    """Write the key that seals the web accounts' TOTP secrets if there is none (mode 0600, folder
    0700, as ``create_key``). Never rotated with the encoding keys and never overwritten: a new
    key would leave every enrolled secret unreadable (each account would have to enrol again)."""
    _private_folder(key_dir)
    path = key_dir / TOTP_KEY_FILE
    _write_new_key(path, KEY_BYTES)  # a link there is left for load_totp_key to refuse
    return path


def load_totp_key(key_dir: Path) -> bytes:
    """The TOTP secrets' key, held to the same rules as the encoding keys (FatalError otherwise)."""
    check_key_folder(key_dir)
    path = key_dir / TOTP_KEY_FILE
    if not os.path.lexists(path):
        raise ConfigError(f"no {TOTP_KEY_FILE} in {key_dir}: enrol a second factor again (kim-hub users totp NAME)")
    return base64.b64decode(_read_key_file(path).strip())


def set_current(key_dir: Path, key_id: str) -> None:
    """Switch the key new encodings are made with (atomic: a crash leaves the old or the new)."""
    temporary = key_dir / ".current.tmp"
    temporary.write_text(key_id + "\n")
    os.replace(temporary, key_dir / "current")


def next_key_id(key_dir: Path) -> str:
    """k1 → k2 → …: the id of the next key version."""
    numbers = [int(p.stem.removeprefix("hub-k")) for p in key_dir.glob("hub-k*.key") if p.stem.removeprefix("hub-k").isdigit()]
    return f"k{max(numbers, default=0) + 1}"


def destroy_key(key_dir: Path, key_id: str) -> None:
    """Overwrite a retired key version's files, then delete them: encodings and tokens made with it
    become unreadable noise. A link there is removed, never written through (its target is not the
    hub's to destroy)."""
    for path in (key_path(key_dir, key_id), record_id_key_path(key_dir, key_id)):
        _destroy_file(path)
    scheme_path(key_dir, key_id).unlink(missing_ok=True)


def _destroy_file(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        size = path.stat().st_size
        with open(os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC), "r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()


def current_key_id(key_dir: Path) -> str:
    """The id of the key new encodings are made with (the folder's ``current`` marker)."""
    marker = key_dir / "current"
    if not marker.exists():
        raise ConfigError(f"no key in {key_dir}: run 'kim-hub init' first")
    key_id = marker.read_text().strip()
    if not KEY_ID.fullmatch(key_id):
        raise FatalError(f"key folder {key_dir}: its current marker names no valid key id; refusing to start")
    return key_id


def load_keys(key_dir: Path, key_id: str | None = None) -> EncodingKeys:
    """The per-purpose keys of a key version with its record-id key; refuses (FatalError) a key
    folder or key file that is a link, belongs to another user, or is open to group or others.
    A missing record-id key is a ConfigError naming the fix (``kim-hub init``)."""
    check_key_folder(key_dir)
    key_id = key_id or current_key_id(key_dir)
    master = base64.b64decode(_read_key_file(key_path(key_dir, key_id)).strip())
    record_id_file = record_id_key_path(key_dir, key_id)
    if not os.path.lexists(record_id_file):
        raise ConfigError(
            f"key version {key_id} has no record-id key ({record_id_file.name}): run 'kim-hub init' to create it "
            "and to encrypt the record ids stored in clear until now"
        )
    record_id_key = base64.b64decode(_read_key_file(record_id_file).strip())
    if len(record_id_key) != RECORD_ID_KEY_BYTES:
        raise FatalError(f"key file {record_id_file} does not hold a {RECORD_ID_KEY_BYTES}-byte key; refusing to start")
    return EncodingKeys.from_master(master, key_id, record_id_key, read_scheme(key_dir, key_id))


def check_key_folder(key_dir: Path) -> None:
    """Refuse a key folder that is a link, not a folder, another user's, or open to others."""
    try:
        found = os.lstat(key_dir)
    except FileNotFoundError:
        raise ConfigError(f"no key in {key_dir}: run 'kim-hub init' first") from None
    if stat.S_ISLNK(found.st_mode):
        raise FatalError(
            f"key folder {key_dir} is a symbolic link; refusing to start. Set key_dir in hub.toml to the real folder"
        )
    if not stat.S_ISDIR(found.st_mode):
        raise FatalError(f"key folder {key_dir} is not a folder; refusing to start")
    _refuse_foreign_or_open(found, f"key folder {key_dir}", f"chmod 700 {key_dir}")


def _private_folder(key_dir: Path) -> None:
    """The key folder, created 0700 if missing (the mode is given at creation, so it is never
    open for a moment), else checked as it is. The umask can only take bits away from 0700."""
    key_dir.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # there already (or a link): checked below, never chmod-ed
        os.mkdir(key_dir, 0o700)
    check_key_folder(key_dir)


def _read_key_file(path: Path) -> bytes:
    """The key file's content, read through one descriptor that was opened without following a
    link and checked (regular, owner, mode) before a byte is read: no swap between check and read."""
    try:
        descriptor = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        raise ConfigError(f"key file {path} is missing") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise FatalError(f"key file {path} is a symbolic link; refusing to start. Put the key file itself there") from None
        raise
    with open(descriptor, "rb") as handle:
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise FatalError(f"key file {path} is not a regular file; refusing to start")
        _refuse_foreign_or_open(found, f"key file {path}", f"chmod 600 {path}")
        return handle.read()


def _refuse_foreign_or_open(found: os.stat_result, what: str, fix: str) -> None:
    """Refuse what another user owns (they could swap or read the key) or what group or others
    may access (mode & 0o077)."""
    if found.st_uid != os.geteuid():
        raise FatalError(f"{what} is not owned by the user running the hub; refusing to start")
    mode = stat.S_IMODE(found.st_mode)
    if mode & 0o077:
        raise FatalError(f"{what} is accessible by group or others (mode {mode:o}); refusing to start. Fix with: {fix}")
