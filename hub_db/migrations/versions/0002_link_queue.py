"""link queue: records waiting for linking move from a flag on source_records to their own table

Clearing the flag after a first run rewrote every wide source_records row on SQLite (a
million encodings of write-ahead log); the queue's rows are small. On SQLite dropping the column
copies source_records once (Alembic's batch mode), so this upgrade takes about as long as
copying the database file.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_queue",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["source_records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.execute("INSERT INTO link_queue (record_id) SELECT id FROM source_records WHERE needs_link")
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_records_needs_link"))
        batch_op.drop_column("needs_link")


def downgrade() -> None:
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_link", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_source_records_needs_link"), ["needs_link"], unique=False)
    op.execute("UPDATE source_records SET needs_link = TRUE WHERE id IN (SELECT record_id FROM link_queue)")
    op.drop_table("link_queue")
