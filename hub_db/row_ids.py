"""Primary keys for rows about to be inserted in bulk, known before the insert.

Storing a file's records and a link run's new persons needs each new row's id (to queue the
record, to link to the person). INSERT … RETURNING in parameter order goes row by row on SQLite,
and reading the ids back afterwards by the rows' unique keys cost a first import of a million
records about 8 s. Taking the ids first costs one statement:

* SQLite: one writer at a time, so once a transaction holds the write lock (taken here:
  ``hub_db.locks.sqlite_write_lock``), the ids above the highest stored one are its own until it ends;
* PostgreSQL: the column's own sequence hands out the ids (also to writers running side by
  side), so the rows inserted later with these ids never meet another writer's.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from kim_hub.hub_db.locks import sqlite_write_lock


def reserve_ids(session: Session, table: Table, count: int) -> Sequence[int]:
    """``count`` ids for new rows of ``table`` (integer primary key ``id``), in ascending order."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        taken = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        ).scalars()
        return sorted(int(i) for i in taken)
    sqlite_write_lock(session)
    highest = session.execute(select(func.max(table.c.id))).scalar() or 0
    return range(highest + 1, highest + 1 + count)
