"""index mark per insert: on SQLite, storing records marks ``index_changes`` once per batch, not per row

Migration 0013's trigger wrote the mark after every inserted row. SQLite has only row triggers,
and the mere presence of one on ``source_records`` cost about 12 µs per inserted row (measured:
24 µs a row with it, 11 µs without; 12 s of a first import of a million records). Records are
inserted in one place only (``hub_db.records``, a file's rows a chunk at a time), which now writes
the same mark once per chunk (``hub_db.index_changes.mark_inserted``). The triggers on update and
delete stay: a key rotation, an erasure or a hand-made change still marks by itself. PostgreSQL
keeps its trigger, which runs once per statement.

A later migration that rebuilds ``source_records`` on SQLite re-creates 0013's triggers and must
drop the insert trigger again (``drop_insert_trigger``).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 14:00:00
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_INSERT_TRIGGER = (
    "CREATE TRIGGER index_changed_insert AFTER INSERT ON source_records "
    "BEGIN INSERT OR REPLACE INTO index_changes (id, token) VALUES (0, random() % 2147483648); END"
)


def upgrade() -> None:
    drop_insert_trigger()


def drop_insert_trigger() -> None:
    """SQLite: no trigger per inserted row (the inserting code marks; see the module docstring)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS index_changed_insert")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_INSERT_TRIGGER)
