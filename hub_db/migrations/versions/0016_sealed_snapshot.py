"""sealed encodings: the index snapshot written in clear is dropped

From this version the records' encodings and the index snapshot's column pieces are stored sealed
(``linkage.sealed``, ``hub_db.sealed_encodings``). A snapshot written by an older version holds
the encodings' tokens and Bloom filters as clear column bytes; it is only a cache, so it is
removed here and rewritten, sealed, by the next link run. The records' own encodings need the key
folder to be sealed, which a migration does not have: `kim-hub init` (and `kim-hub restore`)
seals them right after the migrations (``pipeline.sealing``); until then they are read as clear
JSON, as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 20:30:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM index_segments")


def downgrade() -> None:
    op.execute("DELETE FROM index_segments")  # an older version cannot read sealed pieces: it rebuilds its own
