"""Marking that what the index is loaded from changed, where no trigger does it.

``index_changes`` tells a process that keeps the index loaded (``hub_db.kept_index``) and a sync
looking for work (``hub_db.sync_marks``) that stored records changed. Triggers write the mark on
update and delete of ``source_records`` (migration 0013), and on PostgreSQL on insert too, once per
statement. On SQLite a row trigger on insert cost about half of storing a record (migration 0018),
so the code that inserts records writes the mark itself, once per batch, with the same statement
the trigger ran.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

SQLITE_MARK = "INSERT OR REPLACE INTO index_changes (id, token) VALUES (0, random() % 2147483648)"


def mark_inserted(session: Session) -> None:
    """Records were just inserted in this transaction: mark it (on PostgreSQL its trigger did)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(SQLITE_MARK)
