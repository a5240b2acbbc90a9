"""Locks for the steps that must not overlap, on SQLite and PostgreSQL alike.

Linking reads every waiting record, clusters for a while, then writes persons and links; pushing
reads what each recipient got and sends what changed. Two processes doing either at once (two
ingests, `kim-hub push` during a sync run) would both act on what they read: two persons for one
record, the same summary sent twice. So each takes its lock first thing in its transaction and
reads only then; the lock is released at commit or rollback, also when the process dies.

* PostgreSQL: a transaction-scoped advisory lock per step. A file's import takes the linking lock
  *shared*: imports run side by side, but never while linking runs, so linking cannot mark a
  record as linked that an import changed after linking had read it (a lost update).
* SQLite allows one writer at a time: the transaction starts with a write, so it holds the
  database's write lock from its first read to its commit (other writers wait: busy_timeout).
  Imports write anyway, so a shared lock needs nothing extra there.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

LINKING = "kim-hub:linking"  # the master index: linking, review decisions, erasure (imports: shared)
PUSHING = "kim-hub:pushing"  # transfers: one push at a time


def hold(session: Session, name: str, shared: bool = False) -> None:
    """Take lock ``name`` until the session's transaction ends (waits while another holds it)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(text(f"SELECT {function}(:key)"), {"key": _key(name)})
    elif dialect == "sqlite" and not shared:
        sqlite_write_lock(session)


def sqlite_write_lock(session: Session) -> None:
    """SQLite: begin the transaction with the database's write lock, by a write that changes nothing
    (other writers wait until it ends: busy_timeout)."""
    session.execute(text("UPDATE source_states SET source = source WHERE 0"))


def _key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
