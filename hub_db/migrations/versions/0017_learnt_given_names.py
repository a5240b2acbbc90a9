"""learnt given names: the given-name equivalences a link run learnt from confirmed pairs

One row (or none): the pairs of keyed given-name tokens the last link run learnt and applied
(``linkage.learnt_names``), sealed like the index snapshot. The next run compares what it learns
with them and re-links the records holding the names that changed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 23:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learnt_given_names",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learnt_given_names")
