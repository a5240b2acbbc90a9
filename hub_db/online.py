"""Online linking: which person is this one record, answered in milliseconds against a loaded index.

A counter or an API asks "do we know this person?" for one record at a time and cannot wait for
the nightly run. ``OnlineIndex`` loads the index once (encodings as columns, blocking keys sorted,
the current model, every record's person) and then answers per record with the same rules as the
batch run: candidates from the blocking keys (a key shared by more than ``max_block`` records is
dropped), Fellegi–Sunter weights with the index's value frequencies, and the clustering's rule
that a record joins a person only when the *average* weight over all of that person's records
clears the automatic threshold, the best pair carries individual evidence (or shows a pattern the
installation let go, ``linkage.household.Release``) and no AZR conflict stands in the way. (A
record the batch run would join below the automatic threshold as the person's clearly best
candidate, ``linkage.cluster``, is answered ``review`` here: that needs the person's other
candidates.) It only answers: storing the record and linking it for good
stays with the regular (incremental) link run, which may still revise the answer with the
full picture.
A question may name the source the record comes from: its pairs then get the prior the batch
run gives pairs from one body or from two (``MatchModel.prior_shifts``); without it, the
overall prior.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from kim_hub.hub_db import learnt_names
from kim_hub.hub_db.index_snapshot import body_numbers
from kim_hub.hub_db.master_index import LinkPolicy, current_model, household_release, load_index
from kim_hub.hub_db.models import Link, Person, SourceRecord
from kim_hub.linkage.blocking import DEFAULT_MAX_BLOCK
from kim_hub.linkage.blocking_arrays import block_keys
from kim_hub.linkage.columnar import EncodingArrays, concat, from_encodings
from kim_hub.linkage.compare_arrays import compare_pairs, identifiers_conflict, individual_evidence
from kim_hub.linkage.encode import RecordEncoding


@dataclass(frozen=True)
class OnlineAnswer:
    """The person a record belongs to (``auto``), might belong to (``review``), or none (``new``)."""

    status: str  # auto | review | new
    pseudonym: str | None
    weight: float | None  # average match weight over the person's records


class OnlineIndex:
    """The master index held in memory for single-record questions (read-only)."""

    def __init__(self, session: Session, policy: LinkPolicy = LinkPolicy(), max_block: int = DEFAULT_MAX_BLOCK) -> None:
        self.learnt = learnt_names.stored(session)  # applied to the index by load_index, and to each asked record
        self.arr = load_index(session, self.learnt)
        model, _version = current_model(session, self.arr, policy)
        self.model = model
        # the patterns of household evidence alone let go here, as the batch run lets them go
        self.released = household_release(session, self.arr, model.household_census, policy)
        self.thresholds = policy.thresholds()
        self.max_block = max_block
        self.keys, self.rows = block_keys(self.arr)
        person_of = dict(session.execute(select(Link.record_id, Link.person_id)).all())
        self.pseudonym = dict(session.execute(select(Person.id, Person.pseudonym)).all())
        self.body_of = body_numbers(session.execute(select(SourceRecord.source).distinct()).scalars())
        self.person = np.array([person_of.get(int(i), -1) for i in self.arr.ids], dtype=np.int64)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for row, person in enumerate(self.person.tolist()):
            if person >= 0:
                rows_of[person].append(row)
        self.rows_of = {person: np.array(rows, dtype=np.int64) for person, rows in rows_of.items()}

    def link(self, encoding: RecordEncoding, source: str | None = None) -> OnlineAnswer:
        """The person this record would join, by the batch run's rules (``source``: the body the
        record comes from, when known; a source the index does not hold yet is another body)."""
        single = self.learnt.applied(from_encodings({-1: encoding}))
        if source is not None:
            single.body[:] = self.body_of.get(source, len(self.body_of))
        candidates = self._candidates(single)
        if len(candidates) == 0:
            return OnlineAnswer("new", None, None)
        weights, evidence, conflict = self._weigh(single, candidates)
        persons = self.person[candidates]
        best: tuple[float, int, bool] | None = None
        for person in np.unique(persons[(weights >= self.thresholds.review) & (persons >= 0)]).tolist():
            rows = self.rows_of[person]
            all_weights, _ev, all_conflict = self._weigh(single, rows)
            if all_conflict.any():
                continue  # an AZR conflict: never this person
            average = float(all_weights.mean())
            mine = persons == person
            strongest = int(np.argmax(np.where(mine, weights, -np.inf)))
            automatic = weights[strongest] >= self.thresholds.auto and bool(evidence[strongest]) and not conflict[strongest]
            if best is None or average > best[0]:
                best = (average, person, automatic)
        if best is None or best[0] < self.thresholds.review:
            return OnlineAnswer("new", None, None if best is None else best[0])
        average, person, automatic = best
        status = "auto" if automatic and average >= self.thresholds.auto else "review"
        return OnlineAnswer(status, self.pseudonym[person], average)

    def _candidates(self, single: EncodingArrays) -> np.ndarray:
        """Index rows sharing a blocking key with the record (keys too common are dropped)."""
        keys, _rows = block_keys(single)
        lo = np.searchsorted(self.keys, keys, side="left")
        hi = np.searchsorted(self.keys, keys, side="right")
        usable = (hi - lo) + 1 <= self.max_block  # the record itself joins the block
        if not usable.any():
            return np.empty(0, np.int64)
        members = [self.rows[start:stop] for start, stop in zip(lo[usable].tolist(), hi[usable].tolist())]
        return np.unique(np.concatenate(members))

    def _weigh(self, single: EncodingArrays, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Match weight, individual evidence and AZR conflict of the record against index rows."""
        pool = concat([self.arr.take(rows), single])
        index = np.arange(len(rows), dtype=np.int64)
        new = np.full(len(rows), len(rows), dtype=np.int64)
        levels = compare_pairs(pool, index, new)  # index rows have lower ids: they come first
        weights = self.model.score_levels(levels) + self.model.prior_shifts(pool.body[index], pool.body[new])
        return weights, individual_evidence(levels.levels, self.released), identifiers_conflict(pool, index, new)
