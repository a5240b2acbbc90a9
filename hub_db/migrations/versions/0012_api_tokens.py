"""the providers' API: tokens, idempotency keys, delivered bytes per body and day

A body's token for the HTTP API (``/api/v1``) is stored as its SHA-256 with the body, its scopes
and its times (expiry, revocation, the token a rotation put in its place). A delivery's
``Idempotency-Key`` is kept as its SHA-256 with the content hash it stood for; the bytes a body
delivered per day count against the daily limit.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_body", "api_tokens", ["body"])
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("body", "source", "key_hash", name="uq_api_idempotency"),
    )
    op.create_table(
        "api_delivery_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("body", "day", name="uq_api_delivery_day"),
    )


def downgrade() -> None:
    op.drop_table("api_delivery_days")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_tokens_body", table_name="api_tokens")
    op.drop_table("api_tokens")
