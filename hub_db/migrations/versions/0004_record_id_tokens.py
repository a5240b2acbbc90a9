"""record id tokens: source_records.record_id wide enough for an encrypted record id

Record ids a source's settings keep encrypted are stored as AES-SIV tokens (linkage.record_ids):
``siv-`` + URL-safe base64 of the id's UTF-8 bytes plus a 16-byte tag. A 64-character id of
four-byte characters gives 367 characters; a Kundennummer 39. The encryption of ids already
stored in clear needs the key and the configuration, so `kim-hub init` does it after this
migration (pipeline.record_ids.settle_record_ids). On SQLite the column change copies
source_records once (Alembic's batch mode).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.alter_column(
            "record_id", existing_type=sa.String(length=64), type_=sa.String(length=400), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("source_records", schema=None) as batch_op:
        batch_op.alter_column(
            "record_id", existing_type=sa.String(length=400), type_=sa.String(length=64), existing_nullable=False
        )
