"""The loaded index kept in a long-running process between link runs, while it is still current.

A reviewer's decision re-links one pair, but ``master_index.link_pending`` loads the whole index
for it (``index_snapshot.load``: every record's id, key and content hash checked against the
snapshot's columns), and derives index-wide tables from it (blocking keys, the model applied to
the value frequencies, the bound on name weights): seconds at 100,000 persons, for a pair. Inside
``keeping()`` (the web application's lifetime) the index a committed link run used is kept, with
what was derived from it, and the next run of the same process uses it instead of loading,
if and only if it is still what a load would give:

* nothing the index is loaded from changed since: the database's triggers on ``source_records``
  (migration 0013; on SQLite an insert is marked by the code storing records,
  ``hub_db.index_changes``) write a random token into ``index_changes`` on every change, by any
  process, and every link run, of any process, prunes the tokens it saw and adds its own. The kept index
  remembers the tokens as its run left them; other tokens mean another process changed records or
  linked, and the index is loaded afresh;
* the records waiting for the run, which a load reads again from their stored encodings, read the same: they
  are read and compared (a decision queues its two records unchanged).

The kept index is handed over only when the run's transaction commits (a decision's preview runs
in a transaction that is rolled back: it leaves the kept index as it was), and it is never changed
in place: a run works on it read-only.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.index_snapshot import LoadedIndex, stored_rows_equal
from kim_hub.hub_db.models import IndexChange
from kim_hub.runtime.kept_while_used import KeptWhileUsed

Marks = tuple[tuple[int, int], ...]  # the rows of index_changes: (id, token), by id
T = TypeVar("T")


@dataclass
class KeptIndex:
    """An index as a link run loaded it, and what the run derived from it (kept on commit)."""

    loaded: LoadedIndex
    _derived: dict[Any, Any] = field(default_factory=dict)

    def derived(self, key: Any, make: Callable[[], T]) -> T:
        """What ``make`` derives from the index (blocking keys, the applied model), made once."""
        if key not in self._derived:
            self._derived[key] = make()
        found: T = self._derived[key]
        return found


@dataclass(frozen=True)
class _Kept:
    """A kept index and the change marks its run left behind."""

    index: KeptIndex
    marks: Marks


_KEEPER: KeptWhileUsed[_Kept] = KeptWhileUsed()  # one kept index per database


@contextmanager
def keeping() -> Iterator[None]:
    """While the block runs, link runs keep their loaded index for the next run of this process."""
    with _KEEPER.held():
        yield


@dataclass(frozen=True)
class RunStart:
    """What a link run saw when it began: the change marks, and the kept index if still current."""

    marks: Marks
    kept: KeptIndex | None


def begin(session: Session, queued: set[int]) -> RunStart:
    """At the start of a link run (the linking lock held): the marks, and the kept index when it is
    what ``index_snapshot.load`` would give now, with ``queued`` read again from their stored encodings."""
    marks = read_marks(session)
    if not _KEEPER.active():
        return RunStart(marks, None)
    database = _database(session)
    kept = _KEEPER.get(database)
    if kept is None or kept.marks != marks:
        _KEEPER.drop(database)  # another process changed records or linked: load afresh
        return RunStart(marks, None)
    if not stored_rows_equal(session, kept.index.loaded.arrays, queued):
        return RunStart(marks, None)
    return RunStart(marks, kept.index)


def finish(session: Session, start: RunStart, index: KeptIndex) -> None:
    """At the end of a link run (its snapshot saved): prune the marks it saw, add its own, and
    keep the run's index for the next run once the transaction commits."""
    seen = [row_id for row_id, _token in start.marks]
    for chunk in chunked(seen):
        session.execute(delete(IndexChange).where(IndexChange.id.in_(chunk)))
    mark = IndexChange(token=secrets.randbits(31))
    session.add(mark)
    session.flush()
    if not _KEEPER.active():
        return
    loaded = index.loaded
    settled = replace(loaded, reread=np.zeros(len(loaded.arrays), dtype=bool), segments=max(loaded.segments, 1))
    following = _Kept(KeptIndex(settled, index._derived), ((mark.id, mark.token),))
    _keep_on_commit(session, _database(session), following)


def _keep_on_commit(session: Session, database: str, following: _Kept) -> None:
    """Keep ``following`` when the session's transaction commits; forget it when it rolls back."""
    settled = False

    def committed(_session: Session) -> None:
        nonlocal settled
        if not settled:
            settled = True
            _KEEPER.put(database, following)

    def rolled_back(_session: Session) -> None:
        nonlocal settled
        settled = True

    event.listen(session, "after_commit", committed, once=True)
    event.listen(session, "after_rollback", rolled_back, once=True)


def read_marks(session: Session) -> Marks:
    """The rows of ``index_changes`` as this transaction sees them."""
    rows = session.execute(select(IndexChange.id, IndexChange.token).order_by(IndexChange.id)).all()
    return tuple((int(row_id), int(token)) for row_id, token in rows)


def _database(session: Session) -> str:
    """Which database the session works on (the URL, password included: two users are one database
    only if they are the same URL; the key never leaves this process)."""
    return session.get_bind().engine.url.render_as_string(hide_password=False)
