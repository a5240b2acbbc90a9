"""Engine creation and schema migrations (Alembic, applied by `kim-hub init` and on upgrade)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from kim_hub.hub_db.audit_log import Auditor, session_info
from kim_hub.hub_db.json_columns import read_json
from kim_hub.hub_db.sealed_encodings import KeyRing, keyring_info

if TYPE_CHECKING:  # Alembic is imported by what migrates, not by every command that opens the database
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite's page cache per connection, in KiB (negative: a size, not pages). The default 2 MB is
# far smaller than the indexes a first run writes into (a million links by person, by record):
# pages were evicted and read again throughout, and writing a million links took 11 s instead
# of 6 (benchmarks/README.md). Taken only as pages are used, and kept by the connection until it
# closes: a pool of five that has read much holds up to 320 MiB more than with the default.
SQLITE_CACHE_KIB = 64 * 1024


def make_engine(url: str) -> Engine:
    """An engine for the hub database; SQLite gets 16 KB pages (when new), WAL, foreign keys, a busy
    timeout, a larger page cache and secure delete. JSON columns are read with orjson (``json_columns``)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, json_deserializer=read_json)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            sqlite_page_size(dbapi_connection, _record)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            # erased or replaced rows are overwritten, not left in free pages for a disk image to show
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_deserializer=read_json)


def sqlite_page_size(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """A new SQLite database gets 16 KB pages (an existing one keeps its own): a record's row is
    about 2.3 KB, so a 4 KB page holds one and leaves 1.7 KB empty; a 16 KB page holds seven.
    Also set by the migrations' engine (``migrations/env.py``), which makes the database file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA page_size=16384")
    cursor.close()


def checkpoint(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the database and truncate it, so page images from
    before a change (say, clear ids just encrypted) are gone from the log as well; with
    ``secure_delete`` the database file itself keeps none. Other databases: nothing to do."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def session_factory(engine: Engine, auditor: Auditor | None = None, keyring: KeyRing | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``; with an ``auditor`` they can write the audit log (hub_db.audit_log),
    and whatever the log must record can only be written through such sessions; with a
    ``keyring`` they can open the sealed encodings (hub_db.sealed_encodings)."""
    info = {**(session_info(auditor) if auditor else {}), **(keyring_info(keyring) if keyring else {})}
    return sessionmaker(engine, expire_on_commit=False, info=info or None)


def alembic_config(url: str) -> Config:
    """Alembic configured in code: no alembic.ini to find, the URL comes from hub.toml."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("kim_hub.hub_db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, audit_key: bytes | None = None, record_name: Callable[[str, str], str] | None = None) -> None:
    """Bring the database schema to the newest migration (idempotent). ``audit_key`` seals audit
    entries a migration moves into the log (0005), ``record_name`` names their records as the
    log does (``Auditor.record_name``); without the key such a migration stops."""
    from alembic import command

    config = alembic_config(url)
    if audit_key is not None:
        config.attributes["audit_key"] = audit_key
    if record_name is not None:
        config.attributes["audit_record_name"] = record_name
    command.upgrade(config, "head")
