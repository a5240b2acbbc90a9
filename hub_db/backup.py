"""A consistent copy of the hub database, and the database replaced from one.

* SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database page by
  page as one consistent snapshot while other connections read and write; restoring runs the
  same API the other way, into the live file (in WAL mode, through its write-ahead log), so that
  no connection ever sees half a file and no stale ``-wal`` is left to replay over it.
* PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot: one repeatable-read
  transaction) and ``pg_restore --clean`` into the hub's schema after its tables are dropped
  (also those the archive does not have: a newer migration's must not survive into an older
  database). The tools
  must be installed (the ``postgresql-client`` package, of the server's major version or newer).
  The password travels in the environment (``PGPASSWORD``), never on a command line others can
  list.

What a backup holds is the database only: the erasure ledger is kept apart and never restored
(``hub_db.erasure_ledger``), and the keys are backed up separately (docs/operations.md).
Errors name the tool and its exit status, never its output (which may quote the connection).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from kim_hub.core.errors import BadInputError, ConfigError, TransientError

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_TIMEOUT_SECONDS = 30.0


def backup_database(url: str, target: Path) -> None:
    """Write a consistent copy of the database at ``url`` into ``target`` (a file the caller
    created, mode 0600, and renames into place when this returns)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = sqlite3.connect(_read_only(Path(_sqlite_file(parsed))), uri=True, timeout=SQLITE_TIMEOUT_SECONDS)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    if parsed.get_backend_name() == "postgresql":
        _run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}"], parsed)
        return
    raise ConfigError(f"backup: a {parsed.get_backend_name()} database is not supported (SQLite or PostgreSQL)")


def restore_database(url: str, backup: Path) -> None:
    """Replace the database at ``url`` with the copy in ``backup`` (checked first: a file that is
    not a backup of this kind changes nothing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _restore_sqlite(_sqlite_file(parsed), backup)
        return
    if parsed.get_backend_name() == "postgresql":
        _run("pg_restore", ["--list", str(backup)], parsed, archive_check=True)
        _drop_tables(url)
        arguments = ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        _run("pg_restore", [*arguments, str(backup)], parsed)  # --clean: the archive's functions (audit triggers) too
        return
    raise ConfigError(f"restore: a {parsed.get_backend_name()} database is not supported (SQLite or PostgreSQL)")


def _sqlite_file(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise ConfigError("backup and restore need a SQLite database in a file")
    return url.database


def _read_only(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only (percent-encoded: a name may hold '?' or '#')."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _restore_sqlite(database: str, backup: Path) -> None:
    with backup.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BadInputError(f"restore: {backup} is not a SQLite database")
    source = sqlite3.connect(_read_only(backup), uri=True)
    try:
        checked = source.execute("PRAGMA quick_check").fetchone()
        hub = source.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone()
        if checked != ("ok",) or hub is None:
            raise BadInputError(f"restore: {backup} is damaged or not a kim-hub database")
        if not os.path.exists(database):  # a new database file is private from its first byte
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        live = sqlite3.connect(database, timeout=SQLITE_TIMEOUT_SECONDS)
        try:
            live.execute(f"PRAGMA busy_timeout={int(SQLITE_TIMEOUT_SECONDS * 1000)}")
            source.backup(live)
        finally:
            live.close()
    finally:
        source.close()


def _drop_tables(url: str) -> None:
    """Every table of the hub's schema, in one transaction: the archive brings its own, and a
    table a newer migration added must not survive into the older database."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
            for table in list(tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.replace(chr(34), chr(34) * 2)}" CASCADE'))
    finally:
        engine.dispose()


def _run(tool: str, arguments: list[str], url: URL, archive_check: bool = False) -> None:
    """Run a PostgreSQL client tool against ``url``'s database (``archive_check``: only read the
    archive named in ``arguments``, and take a failure as a file that is not one)."""
    program = shutil.which(tool)
    if program is None:
        raise ConfigError(f"{tool} is not installed: install the PostgreSQL client tools (postgresql-client)")
    environment = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    command = [program, *arguments] if archive_check else [program, *arguments, f"--dbname={_conninfo(url)}"]
    try:
        done = subprocess.run(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    except OSError as error:
        raise TransientError(f"{tool} could not be started ({type(error).__name__})") from None
    if done.returncode != 0 and archive_check:
        raise BadInputError("restore: the file is not a pg_dump archive (pg_dump --format=custom)")
    if done.returncode != 0:
        raise TransientError(f"{tool} failed (exit status {done.returncode}); run it by hand to see why")


def _conninfo(url: URL) -> str:
    """A libpq connection string of the URL without its password (which goes in the environment)."""
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    parts.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    return " ".join(f"{key}={_quoted(str(value))}" for key, value in parts.items() if value not in (None, ""))


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
