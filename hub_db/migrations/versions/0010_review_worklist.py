"""review worklist: assignment, postponement and per-field match weights of review items

A reviewer takes an item (``assigned_to``, an actor such as ``web:anna``, and when) and releases
it; an item set aside (``postponed_at``) leaves the queue until ``postponed_until``, or until
it is taken back when that is empty. ``weights`` holds what each field added to the pair's match
weight when it was scored: numbers, no value in clear. Items stored before carry none until the
next linking run that touches them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("weights", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("assigned_to", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("postponed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("postponed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        for column in ("postponed_until", "postponed_at", "assigned_at", "assigned_to", "weights"):
            batch.drop_column(column)
