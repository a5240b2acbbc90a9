"""The given-name equivalences of the master index (``linkage.learnt_names``): learnt from the
reviewers' decisions and the index's AZR numbers, kept between link runs.

Every link run learns the set anew from the whole index (a decision undone, a record erased or a
twin arrived takes a pair back) and stores the set it applied, so that

* the run re-links the records holding names whose equivalence changed since the last run (a
  learnt pair touches records nobody queued);
* whatever reads the index later (``master_index.load_index``: the online linker, a re-estimate)
  applies the set the links were made with.

Stored sealed, like the index snapshot: keyed name tokens stay out of the database in clear. A set
that no longer opens (its key version was destroyed) counts as none: the next run learns it again.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kim_hub.core.errors import ConfigError, FatalError
from kim_hub.hub_db.in_lists import chunked
from kim_hub.hub_db.models import LearntGivenNames, Link, ReviewItem
from kim_hub.hub_db.sealed_encodings import keyring_of
from kim_hub.linkage.columnar import EncodingArrays
from kim_hub.linkage.learnt_names import (
    Evidence,
    LearntNames,
    NamePair,
    differing_names,
    identifier_evidence,
    learn,
)

_PLACE = b"kim-hub/learnt-given-names/v1"


def learnt_now(session: Session, arr: EncodingArrays, min_persons: int, by_identifier: Evidence | None = None) -> LearntNames:
    """The equivalences the index and the decisions confirm now for at least ``min_persons``
    persons (``arr``: the index as loaded; 0 persons: none are learnt). ``by_identifier``:
    ``identifier_evidence(arr)`` when the caller keeps it with a loaded index (a decision's
    re-link in a long-running process need not look at every AZR pair again)."""
    if min_persons <= 0:
        return LearntNames()
    confirmed, contradicted = by_identifier if by_identifier is not None else identifier_evidence(arr)
    by_decision, against = _decision_evidence(session, arr)
    return learn([*confirmed, *by_decision], [*contradicted, *against], min_persons)


def _decision_evidence(session: Session, arr: EncodingArrays) -> tuple[list[tuple[NamePair, Hashable]], list[NamePair]]:
    """Name pairs of decided review items whose records are still in the index: *same* confirms
    (keyed by the person the pair is in now, so one person's decisions count once), *different*
    contradicts. Person keys are tagged, so none equals an AZR number's (``identifier_evidence``)."""
    query = select(ReviewItem.record_a, ReviewItem.record_b, ReviewItem.status).where(ReviewItem.status != "open")
    decided = session.execute(query).all()
    a_ids = np.array([row[0] for row in decided], dtype=np.int64)
    b_ids = np.array([row[1] for row in decided], dtype=np.int64)
    present = np.flatnonzero(np.isin(a_ids, arr.ids) & np.isin(b_ids, arr.ids))
    pairs, differ = differing_names(arr, arr.index_of(a_ids[present]), arr.index_of(b_ids[present]))
    same = np.array([decided[k][2] == "same" for k in present.tolist()], dtype=bool)
    confirming = a_ids[present][differ & same].tolist()
    person_of: dict[int, int] = {}
    for chunk in chunked(confirming):
        person_of.update(session.execute(select(Link.record_id, Link.person_id).where(Link.record_id.in_(chunk))).all())
    confirmed: list[tuple[NamePair, Hashable]] = [
        ((low, high), ("person", person_of[record]) if record in person_of else ("record", record))
        for (low, high), record in zip(pairs[differ & same].tolist(), confirming)
    ]
    against = [(low, high) for low, high in pairs[differ & ~same].tolist()]
    return confirmed, against


def stored(session: Session) -> LearntNames:
    """The set the last link run applied (none when nothing was learnt or it no longer opens)."""
    row = session.execute(select(LearntGivenNames).limit(1)).scalar_one_or_none()
    if row is None:
        return LearntNames()
    try:
        return LearntNames.from_bytes(keyring_of(session).keys(row.key_id).open_piece(bytes(row.data), _PLACE))
    except (ConfigError, FatalError):  # SealBrokenError, or a key version no longer at hand (a restore)
        return LearntNames()


def store(session: Session, learnt: LearntNames) -> None:
    """Replace the stored set (sealed with the current key version; nothing stored when empty)."""
    forget(session)
    if learnt.pairs:
        keys = keyring_of(session).current()
        session.add(LearntGivenNames(key_id=keys.key_id, data=keys.seal_piece(learnt.to_bytes(), _PLACE)))


def forget(session: Session) -> None:
    """Drop the stored set (a key rotation: its tokens and its seal are the old key's)."""
    session.execute(delete(LearntGivenNames))
