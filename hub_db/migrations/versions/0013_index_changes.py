"""index changes: a mark written by the database whenever what the index is loaded from changes

A long-running process (the web application) keeps the loaded index between decisions
(``hub_db.kept_index``) and must know, cheaply and for certain, whether the stored records it was
loaded from are still the same. Every writer of ``source_records`` (imports, key rotation,
erasure, retention, a restore) would have to say so; a trigger says it for all of them. On every
insert, delete, or update of a column the index is read from (id, source, encoding, key id,
content hash), the trigger writes a random token into ``index_changes``: on SQLite one row,
replaced per changed record (one writer at a time anyway); on PostgreSQL one new row per
transaction (remembered in a setting local to it), so that imports running side by side never
wait on each other's row. A link run
prunes the rows it saw and adds its own token. Random tokens, not a counter: a restored database
must not come back to a value a process already trusted for another state.

SQLite drops a table's triggers when ``batch_alter_table`` rebuilds it: a later migration that
rebuilds ``source_records`` must create them again (``create_triggers``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = "id, source, encoding, key_id, content_hash"
_SQLITE_MARK = "INSERT OR REPLACE INTO index_changes (id, token) VALUES (0, random() % 2147483648)"
_SQLITE_EVENTS = {"insert": "INSERT", "delete": "DELETE", "update": f"UPDATE OF {_COLUMNS}"}


def upgrade() -> None:
    op.create_table(
        "index_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_triggers()


def create_triggers() -> None:
    """The triggers on ``source_records`` that mark every change of the index's input."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(  # once per transaction: the mark is a setting local to it (undone with a savepoint)
            "CREATE OR REPLACE FUNCTION kim_hub_index_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF current_setting('kim_hub.index_marked', true) IS DISTINCT FROM 'yes' THEN "
            "INSERT INTO index_changes (token) VALUES (floor(random() * 2147483647)::bigint); "
            "PERFORM set_config('kim_hub.index_marked', 'yes', true); "
            "END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER index_changed AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF {_COLUMNS} "
            "ON source_records FOR EACH STATEMENT EXECUTE FUNCTION kim_hub_index_changed()"
        )
        return
    for name, event in _SQLITE_EVENTS.items():
        op.execute(f"CREATE TRIGGER index_changed_{name} AFTER {event} ON source_records BEGIN {_SQLITE_MARK}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS index_changed ON source_records")
        op.execute("DROP FUNCTION IF EXISTS kim_hub_index_changed()")
    else:
        for name in _SQLITE_EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS index_changed_{name}")
    op.drop_table("index_changes")
