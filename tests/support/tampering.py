"""Tampering with the database as someone with direct access could: the audit log's append-only
triggers switched off (tests of what the log's seal catches)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from tests.support.hub import Hub


@contextmanager
def triggers_bypassed(hub: Hub) -> Iterator[object]:
    """A connection on which the log's append-only triggers do not fire: what someone with direct
    access to the database could do (SQLite: drop them; PostgreSQL: the table owner disables them)."""
    engine = create_engine(hub.home.database_url(hub.config))
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            for trigger in ("audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_delete"):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        else:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield connection
    engine.dispose()
