"""How far the database follows the erasure ledger, and the records a tombstone names.

The ledger (a file, ``hub_db.erasure_ledger``) numbers its tombstones; the database keeps the
number of the last one applied to it (``erasure_state``, one row), data and copies alike. Every
command compares the two before it reads anything (``pipeline.tombstones``), so this module is
kept light: it imports the models and nothing of the erasure itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db.models import ErasureMark, SourceRecord


def records_named(session: Session, source: str, digests: Collection[str], digest: Callable[[str, str], str]) -> list[int]:
    """The records of ``source`` whose keyed digest (``digest(source, record_id)``) is among
    ``digests``: what a tombstone, which never holds a record id, finds in a restored database."""
    if not digests:
        return []
    rows = session.execute(select(SourceRecord.id, SourceRecord.record_id).where(SourceRecord.source == source))
    return [pk for pk, record_id in rows if digest(source, record_id) in digests]


def applied_sequence(session: Session) -> int:
    """The last tombstone of the erasure ledger this database has applied (0: none yet)."""
    mark = session.get(ErasureMark, 1)
    return mark.applied_sequence if mark is not None else 0


def mark_applied(session: Session, sequence: int) -> None:
    """Record that every tombstone up to ``sequence`` is applied, data and copies (caller commits)."""
    mark = session.get(ErasureMark, 1)
    if mark is None:
        session.add(ErasureMark(id=1, applied_sequence=sequence))
    else:
        mark.applied_sequence = sequence
