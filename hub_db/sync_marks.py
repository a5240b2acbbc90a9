"""What a sync's steps read from the database, told by a few rows instead of by reading it all.

A sync that finds no delivery still links, pushes and reports, because something may have changed
between syncs: a reviewer's decision, an erasure, a delivery over the API, a collecting body's
acknowledgement, a key rotation, a restored backup. Every one of them leaves a mark that costs
one indexed read to see:

* the newest entry (its sequence number and seal) of the audit log's channels that record
  writes: ``input`` (every delivery), ``change`` (decisions, erasures, purges) and ``transfer``
  (every document sent or collected). Each seal chains its entry to all before it. The ``read``
  and ``admin`` channels are left out: a page viewed or a list shown changes nothing a sync acts
  on, and the web application is used all day; what an administrative act changes shows
  elsewhere (a key rotation in the records' marks, a source added in hub.toml, a restore in all
  of them);
* ``index_changes``: the triggers on ``source_records`` write a random token on every change of a
  stored record, whoever writes it (migration 0013; inserts on SQLite mark once per batch,
  ``hub_db.index_changes``); a link run replaces the tokens with its own;
* how many records wait for linking (``link_queue``), how far the database follows the erasure
  ledger (``erasure_state``), the newest linkage model (a re-estimation is not audited: it
  changes no person until records are linked under it) and the schema's revision (an upgrade).

``database_state`` folds them into one digest. Equal digests mean that, as far as the rows a sync
acts on are concerned, nothing was written in between: ``pipeline.sync_work`` compares it with the
digest a complete sync left behind. Reading it writes nothing and reads no personal data.
On SQLite the same rows are read with the standard library's driver (``sqlite_state``, and the
erasure mark, ``sqlite_applied_sequence``), so that a sync with nothing to do, and the check every
command makes against the erasure ledger, cost no import of SQLAlchemy (a quarter of a second).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

WRITE_CHANNELS = ("input", "change", "transfer")
# The marks as plain SQL, the same on SQLite and PostgreSQL, so that both ways of reading them
# (``database_state``, ``sqlite_state``) give the same digest. ``:channel`` is the only parameter.
NEWEST_OF_CHANNEL = "SELECT seq, mac FROM audit_log WHERE channel = :channel ORDER BY seq DESC LIMIT 1"
MARKS = (
    "SELECT id, token FROM index_changes ORDER BY id",
    "SELECT count(*) FROM link_queue",
    "SELECT id, applied_sequence FROM erasure_state ORDER BY id",
    "SELECT max(id) FROM model_versions",
    "SELECT version_num FROM alembic_version ORDER BY version_num",
)
APPLIED_SEQUENCE = "SELECT applied_sequence FROM erasure_state WHERE id = 1"
T = TypeVar("T")


def database_state(session: Session) -> str:
    """A digest of the marks above (SHA-256, hex), read through the session."""
    from sqlalchemy import text

    return _digest(lambda sql, parameters: [tuple(row) for row in session.execute(text(sql), parameters).all()])


def sqlite_state(path: Path) -> str | None:
    """The same digest read from a SQLite file with the standard library's driver alone (none when
    it cannot be read so: the caller then opens the database the usual way). For the look of a
    sync with nothing to do, which thereby never imports SQLAlchemy."""
    return _with_sqlite(path, lambda connection: _digest(_sqlite_reader(connection)))


def sqlite_applied_sequence(path: Path) -> int | None:
    """How far a SQLite database follows the erasure ledger (``hub_db.erasure_state``), read with
    the standard library's driver alone; None when it cannot be read so."""

    def read(connection: sqlite3.Connection) -> int:
        row = connection.execute(APPLIED_SEQUENCE).fetchone()
        return 0 if row is None else int(row[0])

    return _with_sqlite(path, read)


def _digest(read: Callable[[str, dict[str, Any]], Sequence[tuple[Any, ...]]]) -> str:
    newest = tuple(_first(read(NEWEST_OF_CHANNEL, {"channel": channel})) for channel in WRITE_CHANNELS)
    marks = (newest, *(tuple(read(sql, {})) for sql in MARKS))
    return hashlib.sha256(repr(marks).encode()).hexdigest()


def _first(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...] | None:
    return rows[0] if rows else None


def _sqlite_reader(connection: sqlite3.Connection) -> Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]:
    return lambda sql, parameters: [tuple(row) for row in connection.execute(sql, parameters).fetchall()]


def _with_sqlite(path: Path, read: Callable[[sqlite3.Connection], T]) -> T | None:
    """``read`` on a read-only connection to the file (never creating it), in one transaction."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")
        return read(connection)
    except sqlite3.Error:
        return None
    finally:
        connection.close()
