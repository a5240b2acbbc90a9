"""erasure state: the last tombstone of the erasure ledger this database has applied

The ledger (a file kept apart from the database) lists every erasure; a database restored from a
backup is older than the ledger, and the hub applies the tombstones after its mark again before
any command runs. A database upgraded to this version starts at 0: if the home already has a
ledger (it cannot, before this version) every tombstone would be checked once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "erasure_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applied_sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "applied_sequence": 0, "updated_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("erasure_state")
