"""row notes: what the field contract did with the values of rows that landed

A row is no longer refused for a flaw in one field: the value is left out, kept with a warning or
repaired, and the receipt says so. Those notes are kept per file like rejections (never the
value), with a count of the rows they concern in the ledger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "row_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["ingest_files.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_row_notes_file_id"), "row_notes", ["file_id"], unique=False)
    with op.batch_alter_table("ingest_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows_noted", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ingest_files", schema=None) as batch_op:
        batch_op.drop_column("rows_noted")
    op.drop_index(op.f("ix_row_notes_file_id"), table_name="row_notes")
    op.drop_table("row_notes")
