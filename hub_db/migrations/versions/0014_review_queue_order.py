"""review queue order: an index on review_items in the order the queue lists them

The queue lists the open items most probable first (``score`` down, ``id`` up) a page at a time;
without an index every page sorted all items of the status (10,000 and more at 100,000 persons).
Ascending columns (an index both backends and alembic's comparison take as plain columns), read
backwards: score down, and within one score the few items sorted by id.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:00:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_items_queue", "review_items", ["status", "score", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_queue", table_name="review_items")
