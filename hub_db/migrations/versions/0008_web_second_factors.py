"""web second factors: a local account's TOTP secret, sealed, and the step of its last code

A local account may have a second factor (`kim-hub users totp NAME`). Its secret is stored only
sealed with AES-GCM under the key file ``web-totp.key`` outside the database; the time step of
the last accepted code is kept so that a code is accepted once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_second_factors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sealed_secret", sa.String(length=255), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["web_users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("web_second_factors")
