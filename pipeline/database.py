"""Opening a home's database: the one place the command line and the flows get sessions from.

Commands and flows read and write the hub's data only through the pipeline's services, so what a
service must do around a read or a write (locks, the audit log's entries) has one place to live:
every session opened here carries the home's auditor (``hub_db.audit_log``), so whatever it
writes that the log records is logged in the same transaction, in the name of ``actor``, and the
home's key ring (``hub_db.sealed_encodings``), which opens the sealed encodings in memory. And
first of all the erasure ledger: before the first session is handed out, a database older than
the ledger (restored from a backup, or left behind by a crash between a tombstone and its
commit) has every erasure since applied again (``pipeline.tombstones``).

A command opens the database a few times and lets go of it; the web application opens it several
times per request, and making an engine (and its first connection) each time cost milliseconds a
page. Inside ``engines_kept`` (the web application's lifetime) one engine per database URL is kept
and reused, checked cheaply on each use: a SQLite file that is no longer the one it opened (a
restore put another in its place) gets a new engine. The catch-up with the erasure ledger still
runs on every opening: it reads the ledger's last line and one row.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.core.access import Actor
from kim_hub.hub_db.audit_log import ANCHOR_FILE, Auditor
from kim_hub.hub_db.database import make_engine, session_factory
from kim_hub.hub_db.keystore import load_audit_key
from kim_hub.hub_db.sealed_encodings import KeyRing
from kim_hub.pipeline.home import HubConfig, HubHome
from kim_hub.pipeline.record_ids import RecordIdForms
from kim_hub.pipeline.tombstones import catch_up as apply_erasures
from kim_hub.runtime.kept_while_used import KeptWhileUsed


def auditor_for(home: HubHome, config: HubConfig, actor: Actor | None = None) -> Auditor:
    """The home's auditor: its audit key (read when first needed), the actor (default: the user
    this process runs as; the web application passes the user it authenticated), the anchor, and
    how the log names a record (``record_names``)."""
    key_dir = home.key_dir(config)
    return Auditor(lambda: load_audit_key(key_dir), actor or Actor.os_user(), home.var / ANCHOR_FILE, record_names(home, config))


def keyring_for(home: HubHome, config: HubConfig) -> KeyRing:
    """The home's key versions, read from its key folder when a sealed encoding is first opened."""
    return KeyRing.of_folder(home.key_dir(config))


def record_names(home: HubHome, config: HubConfig) -> Callable[[str, str], str]:
    """(source, stored record id) → the id the audit log's token of the record is made of: the id
    its body knows it by. For a source whose ids the hub keeps encrypted that is the token opened
    (``pipeline.record_ids``), so the record keeps its name in the log when a key rotation or an
    upgrade gives it a new token, and the log is searched by the number the body knows. A token
    that does not open (an old key's) and a clear id not yet encrypted name themselves."""
    forms = RecordIdForms.of(home, config)
    sealed: dict[str, bool] = {}

    def named(source: str, stored: str) -> str:
        if source not in sealed:
            sealed[source] = forms.sealed(source)
        return (forms.address(source, stored) or stored) if sealed[source] else stored

    return named


@contextmanager
def open_sessions(
    home: HubHome, config: HubConfig | None = None, actor: Actor | None = None, *, catch_up: bool = True
) -> Iterator[sessionmaker[Session]]:
    """A session factory on the home's database, brought up to the erasure ledger, writing the
    audit log as ``actor``; its connections are closed when the block ends. ``catch_up=False``
    is for the one command that must run while the ledger is behind the database (`kim-hub
    erasures --acknowledge-loss`)."""
    config = config or home.load_config()
    url = home.database_url(config)
    engine = _kept_engine(url)
    owned = engine is None
    engine = engine or make_engine(url)
    try:
        sessions = session_factory(engine, auditor_for(home, config, actor), keyring_for(home, config))
        if catch_up:
            apply_erasures(home, config, sessions)
        yield sessions
    finally:
        if owned:
            engine.dispose()


def _kept_engine(url: str) -> Engine | None:
    """The engine kept for ``url`` inside ``engines_kept`` (made on first use), else None. A
    SQLite file that is not the one the engine opened (a restore put another in its place) gets a
    new engine; a SQLite database with no file yet gets none (the opening makes its own, and the file)."""
    sqlite = make_url(url).get_backend_name() == "sqlite"
    identity = _sqlite_file(url) if sqlite else None
    if sqlite and identity is None:
        return None
    kept = _KEPT.get_or_make(url, lambda found: found[1] == identity, lambda: (make_engine(url), identity))
    return None if kept is None else kept[0]


_KEPT: KeptWhileUsed[tuple[Engine, tuple[int, int] | None]] = KeptWhileUsed(lambda kept: kept[0].dispose())


def _sqlite_file(url: str) -> tuple[int, int] | None:
    """A SQLite database file's device and inode (None: no file)."""
    parsed = make_url(url)
    if not parsed.database:
        return None
    try:
        found = os.stat(parsed.database)
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


@contextmanager
def engines_kept() -> Iterator[None]:
    """While the block runs, ``open_sessions`` reuses one engine per database URL instead of
    making and disposing one per call; they are disposed when the (last such) block ends. For a
    long-running process that opens the database on every request: the web application."""
    with _KEPT.held():
        yield


def bring_up_to_ledger(home: HubHome) -> None:
    """What every command does first (``cli.main``): a home's database older than its erasure
    ledger has every erasure since applied again. Nothing for a folder that is no home (yet), nor
    for a SQLite database that is not there (opening it would create an empty file): the
    command itself says so."""
    if not home.exists():
        return
    config = home.load_config()
    url = make_url(home.database_url(config))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return
    with open_sessions(home, config):
        pass
