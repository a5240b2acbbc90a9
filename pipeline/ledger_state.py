"""Every command's first step: the home's database brought up to its erasure ledger, seen cheaply.

A database restored from a backup, or left behind by a crash between a tombstone and its commit,
is older than the erasure ledger, and every erasure since must be applied again before anything
reads it (``pipeline.tombstones``). Usually it is not: the ledger's last sequence and the
database's mark are equal. That comparison is made here first, without SQLAlchemy where the
database is a SQLite file (``hub_db.sync_marks.sqlite_applied_sequence``: the standard library's
driver, read only); only when they differ, or when the mark cannot be read so (PostgreSQL, a URL
with options), is the database opened as usual, which applies what is missing
(``pipeline.database.open_sessions``) exactly as before.
"""

from __future__ import annotations

from pathlib import Path

from kim_hub.hub_db.erasure_ledger import ErasureLedger
from kim_hub.hub_db.sync_marks import sqlite_applied_sequence
from kim_hub.pipeline.home import HubConfig, HubHome

SQLITE_PREFIX = "sqlite:///"


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL (``sqlite:///relative`` or ``sqlite:////absolute``, no
    driver named, no options); None for any other URL."""
    if not url.startswith(SQLITE_PREFIX) or "?" in url or "%" in url:
        return None
    name = url[len(SQLITE_PREFIX) :]
    return Path(name) if name and name != ":memory:" else None


def bring_up_to_ledger(home: HubHome) -> None:
    """What every command does first (``cli.main``): a home's database older than its erasure
    ledger has every erasure since applied again (``pipeline.database.bring_up_to_ledger``,
    which is called unless a plain SQLite file is missing or already in step)."""
    if not home.exists():
        return
    config = home.load_config()
    path = sqlite_file(home.database_url(config))
    if path is not None and (not path.exists() or in_step_with_ledger(home, config, path)):
        return  # no file yet (opening it would create an empty one: the command says so), or nothing to apply
    from kim_hub.pipeline.database import bring_up_to_ledger as bring_up

    bring_up(home)


def in_step_with_ledger(home: HubHome, config: HubConfig, path: Path) -> bool:
    """Has the SQLite database at ``path`` applied the ledger's last tombstone (nothing to do)?
    False also when the mark cannot be read cheaply: the caller then takes the usual way."""
    applied = sqlite_applied_sequence(path)
    return applied is not None and applied == ErasureLedger(home.erasure_ledger(config), _no_key).last_sequence()


def _no_key() -> bytes:
    raise RuntimeError("reading the ledger's last sequence needs no key")
