"""review stake: what deciding an item would change, and the queue in that order

``review_items.stake`` is the expected number of records a *same* decision would make one
person (``hub_db.master_index.decision_stake``); the queue lists the items with the largest
first, then the most probable. Items stored before have 0 until the next link run that covers
their records sets it. The index serves the queue's pages as 0014's served the old order.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("stake", sa.Float(), nullable=False, server_default="0"))
    op.create_index("ix_review_items_stake", "review_items", ["status", "stake", "score", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_stake", table_name="review_items")
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("stake")
