"""Experiment (issue #7, F1 at scale): one prior per kind of pair, same body or two bodies.

A body seldom keeps two records of one person, so a pair from one source is far less likely to
be one person than a pair across sources; the hub's model has one prior for all pairs. This
script re-links an ingested home twice from its stored index, once as the hub does and once with
the prior calibrated separately for same-source and cross-source pairs (each from its own count
of exactly agreeing pairs, the way ``calibrate_prior_from_count`` does for all), and scores both
against the generator's truth. It changes nothing in the home.

    .venv/bin/python benchmarks/source_prior_experiment.py WORK   # WORK/home, WORK/drops/truth.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

import linkage.link as link  # noqa: E402
from flows.home import HubHome  # noqa: E402
from hub_db import index_snapshot  # noqa: E402
from hub_db.database import make_engine, session_factory  # noqa: E402
from hub_db.master_index import LinkPolicy, _stored_model  # noqa: E402
from hub_db.models import SourceRecord  # noqa: E402
from linkage.blocking_arrays import candidate_pair_pieces  # noqa: E402
from linkage.cluster import Thresholds  # noqa: E402
from linkage.compare import LEVELS  # noqa: E402
from linkage.compare_arrays import compare_pairs, date_levels  # noqa: E402
from linkage.evaluate import PairwiseScore, pairwise_score  # noqa: E402

_TOP = (len(LEVELS["family_name"]) - 1, len(LEVELS["given_names"]) - 1, len(LEVELS["birth_date"]) - 1)


class _RecordIdTagged(link.LazyEncodings):
    """Decoded records that remember their id, so a one-pair weight can look up the sources."""

    def _decode(self, record_id: int):  # noqa: ANN202 - a RecordEncoding
        encoding = super()._decode(record_id)
        object.__setattr__(encoding, "_record_id", record_id)
        return encoding


class _ShiftedModel:
    """The model's one-pair score plus the pair's prior shift (``link.compare`` is wrapped to
    hand over the records with the comparison)."""

    def __init__(self, model, shift_of: Callable[[int, int], float]) -> None:  # noqa: ANN001
        self.model, self.shift_of, self.prior_log_odds = model, shift_of, model.prior_log_odds

    def score(self, tagged) -> float:  # noqa: ANN001
        a, b, comparison = tagged
        return self.model.score(comparison) + self.shift_of(a._record_id, b._record_id)


def _agreeing_by_kind(arr, source: np.ndarray) -> tuple[int, int]:  # noqa: ANN001
    same = cross = 0
    for a, b in candidate_pair_pieces(arr):
        day = np.flatnonzero(date_levels(arr, a, b) == _TOP[2])
        a, b = a[day], b[day]
        levels = compare_pairs(arr, a, b).levels
        agreeing = (levels[:, 0] == _TOP[0]) & (levels[:, 1] == _TOP[1]) & (levels[:, 2] == _TOP[2])
        one_body = source[a] == source[b]
        same += int((agreeing & one_body).sum())
        cross += int((agreeing & ~one_body).sum())
    return same, cross


def _relink(arr, model, source: np.ndarray, person: np.ndarray, shift_same: float, shift_cross: float) -> PairwiseScore:  # noqa: ANN001
    thresholds = Thresholds()
    floor = thresholds.review + min(0.0, -shift_cross) - 0.01
    scored = link.score_candidates(arr, model, candidate_pair_pieces(arr), floor)
    scored.bayes = scored.bayes + np.where(source[scored.a] == source[scored.b], shift_same, shift_cross)
    row_of = {record: row for row, record in enumerate(arr.ids.tolist())}

    def shift_of(a: int, b: int) -> float:
        return shift_same if source[row_of[a]] == source[row_of[b]] else shift_cross

    plain_compare = link.compare
    link.compare = lambda x, y: (x, y, plain_compare(x, y))
    try:
        result = link.cluster_scored(arr, scored, _ShiftedModel(model, shift_of), thresholds, encodings=_RecordIdTagged(arr))
    finally:
        link.compare = plain_compare
    predicted = {record: index for index, records in enumerate(result.clusters) for record in records}
    return pairwise_score({int(record): int(person[row]) for row, record in enumerate(arr.ids.tolist())}, predicted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="directory with home/ and drops/truth.csv")
    args = parser.parse_args()
    home = HubHome(args.work / "home")
    config = home.load_config()
    sessions = session_factory(make_engine(home.database_url(config)))
    with open(args.work / "drops" / "truth.csv", newline="") as handle:
        truth = {(row["source"], row["record_id"]): row["person"] for row in csv.DictReader(handle)}
    with sessions() as session:
        arr = index_snapshot.load(session).arrays
        stored = dict((pk, (source, record_id)) for pk, source, record_id in session.execute(select(SourceRecord.id, SourceRecord.source, SourceRecord.record_id)))
        params, _version = _stored_model(session, len(arr), LinkPolicy())
    model = params.applied_to(arr)
    person = np.array([hash(truth.get(stored[int(pk)], f"?{pk}")) for pk in arr.ids], dtype=np.int64)
    names = sorted({source for source, _record_id in stored.values()})
    source = np.array([names.index(stored[int(pk)][0]) for pk in arr.ids], dtype=np.int64)
    per_source = np.bincount(source)
    pairs_same = float((per_source * (per_source - 1) / 2).sum())
    pairs_cross = len(arr) * (len(arr) - 1) / 2 - pairs_same
    same, cross = _agreeing_by_kind(arr, source)
    recall = model.m["family_name"][_TOP[0]] * model.m["given_names"][_TOP[1]] * model.m["birth_date"][_TOP[2]]

    def log_odds(rate: float) -> float:
        return math.log2(rate / (1 - rate))

    prior_same, prior_cross = log_odds(same / recall / pairs_same), log_odds(cross / recall / pairs_cross)
    print(f"exactly agreeing pairs: {same} in one body, {cross} across; prior {model.prior_log_odds:.2f} for all, "
          f"{prior_same:.2f} within a body, {prior_cross:.2f} across")
    for label, shifts in (("one prior", (0.0, 0.0)), ("prior per kind of pair", (prior_same - model.prior_log_odds, prior_cross - model.prior_log_odds))):
        started = time.perf_counter()
        score = _relink(arr, model, source, person, *shifts)
        print(f"{label}: P {score.precision:.4f} R {score.recall:.4f} F1 {score.f1:.4f} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
