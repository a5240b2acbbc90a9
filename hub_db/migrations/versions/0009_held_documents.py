"""held documents: summaries and notices held for bodies that collect them over the API

A body configured with ``summaries = "collect"`` gets no outbox files: the push holds its
documents in this table until the body acknowledges them (``hub_db.collection``), and only then is
the transfer recorded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_documents",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("recipient_record", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("consents", sa.JSON(), nullable=False),
        sa.Column("origins", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["recipient_record"], ["source_records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("document_id"),
    )
    op.create_index("ix_held_documents_body", "held_documents", ["body"])
    op.create_index("ix_held_documents_recipient_record", "held_documents", ["recipient_record"])


def downgrade() -> None:
    op.drop_index("ix_held_documents_recipient_record", table_name="held_documents")
    op.drop_index("ix_held_documents_body", table_name="held_documents")
    op.drop_table("held_documents")
