"""review pending: a review decision that waits for a second reviewer (four eyes)

A merge, split or undo that would touch a person whose summaries already went to another body is
not applied when the first reviewer decides: it is kept here (decision, reason code, who asked,
when) until a different reviewer confirms or rejects it. The row goes with its review item.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_pending",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("requested_by", sa.String(length=110), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )


def downgrade() -> None:
    op.drop_table("review_pending")
