"""The hub's secret key: a file outside the database, readable by its owner only.

The database holds only keyed encodings; whoever has the database without the key cannot compute
an encoding for a name. The key file and the database belong together (back them up together),
but never in the same place as the data they protect.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.linkage.keyed import EncodingKeys

KEY_BYTES = 32
DEFAULT_KEY_ID = "k1"


def key_path(key_dir: Path, key_id: str) -> Path:
    return key_dir / f"hub-{key_id}.key"


def create_key(key_dir: Path, key_id: str = DEFAULT_KEY_ID, make_current: bool = True) -> Path:
    """Write a new random key (mode 0600, folder 0700); an existing key is never overwritten."""
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    path = key_path(key_dir, key_id)
    if path.exists():
        return path
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    if make_current:
        set_current(key_dir, key_id)
    return path


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
    """Overwrite a retired key file, then delete it: encodings made with it become unreadable noise."""
    path = key_path(key_dir, key_id)
    if path.exists():
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.write(secrets.token_bytes(size))
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()


def current_key_id(key_dir: Path) -> str:
    marker = key_dir / "current"
    if not marker.exists():
        raise ConfigError(f"no key in {key_dir}: run 'kim-hub init' first")
    return marker.read_text().strip()


def load_keys(key_dir: Path, key_id: str | None = None) -> EncodingKeys:
    """The per-purpose keys of a key version; refuses a key file others can read."""
    key_id = key_id or current_key_id(key_dir)
    path = key_path(key_dir, key_id)
    if not path.exists():
        raise ConfigError(f"key file {path} is missing")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise FatalError(f"key file {path} is readable by others (mode {mode:o}); refusing to start. Fix with: chmod 600 {path}")
    master = base64.b64decode(path.read_text().strip())
    return EncodingKeys.from_master(master, key_id)
