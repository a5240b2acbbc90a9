"""What a sync's steps read from the database, told by a few rows instead of by reading it all.

A sync that finds no delivery still links, pushes and reports, because something may have changed
between syncs: a reviewer's decision, an erasure, a delivery over the API, a collecting body's
acknowledgement, a key rotation, a restored backup. Every one of them leaves a mark that costs
one indexed read to see:

* the newest entry (its sequence number and seal) of the audit log's channels that record
  writes: ``input`` (every delivery), ``change`` (decisions, erasures, purges) and ``transfer``
  (every document sent or collected). Each seal chains its entry to all before it. The ``read``
  and ``admin`` channels are left out: a page viewed or a list shown changes nothing a sync acts
  on, and the web application is used all day; what an administrative act changes shows
  elsewhere (a key rotation in the records' marks, a source added in hub.toml, a restore in all
  of them);
* ``index_changes``: the triggers on ``source_records`` write a random token on every change of a
  stored record, whoever writes it (migration 0013); a link run replaces the tokens with its own;
* how many records wait for linking (``link_queue``), how far the database follows the erasure
  ledger (``erasure_state``), the newest linkage model (a re-estimation is not audited: it
  changes no person until records are linked under it) and the schema's revision (an upgrade).

``database_state`` folds them into one digest. Equal digests mean that, as far as the rows a sync
acts on are concerned, nothing was written in between: ``pipeline.sync_work`` compares it with the
digest a complete sync left behind. Reading it writes nothing and reads no personal data.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import AuditEntry, ErasureMark, IndexChange, LinkQueueEntry, ModelVersion

WRITE_CHANNELS = ("input", "change", "transfer")


def database_state(session: Session) -> str:
    """A digest of the marks above (SHA-256, hex)."""
    newest = tuple(_newest(session, channel) for channel in WRITE_CHANNELS)
    changes = session.execute(select(IndexChange.id, IndexChange.token).order_by(IndexChange.id)).all()
    waiting = session.scalar(select(func.count()).select_from(LinkQueueEntry))
    erasures = session.execute(select(ErasureMark.id, ErasureMark.applied_sequence).order_by(ErasureMark.id)).all()
    model = session.scalar(select(func.max(ModelVersion.id)))
    revision = session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    marks = (
        newest,
        tuple(tuple(row) for row in changes),
        waiting,
        tuple(tuple(row) for row in erasures),
        model,
        tuple(sorted(revision)),
    )
    return hashlib.sha256(repr(marks).encode()).hexdigest()


def _newest(session: Session, channel: str) -> tuple[int, str] | None:
    """A channel's newest entry: its sequence number and seal (one step down the channel's index)."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.mac).where(AuditEntry.channel == channel).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), str(row[1]))
