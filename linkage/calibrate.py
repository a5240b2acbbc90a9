"""Calibrating the prior: how many matching pairs the index holds, overall and per kind of pair.

As Splink's ``estimate_probability_two_random_records_match``: count the candidate pairs that
agree exactly on family name, given names and a precise birth date (almost all of them are
matches), and divide by the share of all matches that agree so (from m). The prior then falls as
the index grows, so a bigger population, with more people of the same name and placeholder date,
needs more evidence for a link: precision does not decay with size.

Pairs from one body and pairs from two bodies each get their own prior, as a shift of the overall
one, calibrated the same way from their own agreeing pairs: a body seldom keeps two records of one
person (a duplicate intake), while a person served by two bodies has a record in each. One prior
for both over-links duplicates within a body and under-links across bodies, the
Rechtskreiswechsel the hub exists for. A kind without any agreeing pair (or unknown bodies) keeps
the overall prior.

Every function returns values; ``calibrate_priors`` returns a new model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.blocking_arrays import same_day_name_pieces
from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.compare import DATE, FAMILY, GIVEN, LEVELS
from kim_hub.linkage.compare_arrays import PairLevels, compare_pairs, date_levels
from kim_hub.linkage.model import MatchModel
from kim_hub.runtime.parallel import map_in_threads

PairPieces = Sequence[tuple[np.ndarray, np.ndarray]]  # (a, b) row arrays, piece by piece
_TOP = (len(LEVELS["family_name"]) - 1, len(LEVELS["given_names"]) - 1, len(LEVELS["birth_date"]) - 1)


def agrees_exactly(levels: PairLevels) -> np.ndarray:
    """Per pair: does it agree exactly on family name, given names and a precise date?"""
    lv = levels.levels
    return np.asarray((lv[:, FAMILY] == _TOP[0]) & (lv[:, GIVEN] == _TOP[1]) & (lv[:, DATE] == _TOP[2]))


@dataclass(frozen=True)
class AgreeingPairs:
    """Pairs agreeing exactly on names and a precise date, by kind of pair."""

    same_body: int
    other_bodies: int  # and pairs whose bodies are not known

    @property
    def total(self) -> int:
        return self.same_body + self.other_bodies


def count_agreeing_pairs(arr: EncodingArrays, pairs: PairPieces | None = None) -> AgreeingPairs:
    """Pairs of the index (of ``pairs``, when given) agreeing exactly on names and a precise date.

    Such a pair shares a name token and the day, so only those pairs are compared
    (``blocking_arrays.same_day_name_pieces``): the count equals that over all candidate pairs,
    and also holds the rare pair whose blocks all exceeded the blocking's size limit, as the
    calibration assumes."""
    pieces = same_day_name_pieces(arr) if pairs is None else pairs

    def count_piece(index: int) -> tuple[int, int]:
        a, b = pieces[index]
        same_day = np.flatnonzero(date_levels(arr, a, b) == _TOP[2])
        a, b = a[same_day], b[same_day]
        agreeing = agrees_exactly(compare_pairs(arr, a, b))
        same_body = agreeing & (arr.body[a] == arr.body[b]) & (arr.body[a] != NONE)
        return int(same_body.sum()), int((agreeing & ~same_body).sum())

    counts = map_in_threads(count_piece, len(pieces))
    return AgreeingPairs(sum(same for same, _ in counts), sum(other for _, other in counts))


def exact_agreement_recall(model: MatchModel) -> float:
    """Share of all matching pairs that agree exactly on family name, given names and date (from m)."""
    return model.m["family_name"][_TOP[0]] * model.m["given_names"][_TOP[1]] * model.m["birth_date"][_TOP[2]]


def matches_per_record(model: MatchModel, agreeing: int) -> float:
    """Matching pairs per record that ``agreeing`` exactly agreeing pairs imply (the model's own
    value where they imply nothing: no agreeing pair, or no recall to divide by)."""
    n = model.record_count
    recall = exact_agreement_recall(model)
    if n >= 2 and agreeing and recall > 0:
        return agreeing / recall / n
    return model.matches_per_record


def body_prior_shifts(model: MatchModel, bodies: np.ndarray, same_body: int, other_bodies: int) -> tuple[float, float]:
    """(shift for pairs from one body, shift for pairs from two) in log2 odds over the model's
    overall prior, each from its own count of exactly agreeing pairs; 0 where a kind has none."""
    known = bodies[bodies != NONE]
    recall = exact_agreement_recall(model)
    if len(known) < 2 or recall <= 0:
        return 0.0, 0.0
    per_body = np.bincount(known).astype(np.float64)
    pairs_same = float((per_body * (per_body - 1) / 2).sum())
    pairs_other = len(known) * (len(known) - 1) / 2 - pairs_same
    return _shift(model, same_body, pairs_same, recall), _shift(model, other_bodies, pairs_other, recall)


def _shift(model: MatchModel, agreeing: int, pairs: float, recall: float) -> float:
    if not agreeing or not pairs:
        return 0.0
    share = min(agreeing / recall / pairs, 0.5)
    return math.log2(share / (1 - share)) - model.prior_log_odds


def calibrate_priors(model: MatchModel, arr: EncodingArrays, pairs: PairPieces | None = None) -> MatchModel:
    """The model with its overall prior and the shifts per kind of pair calibrated on ``arr``."""
    agreeing = count_agreeing_pairs(arr, pairs)
    overall = dataclasses.replace(model, matches_per_record=matches_per_record(model, agreeing.total))
    same_body, other_bodies = body_prior_shifts(overall, arr.body, agreeing.same_body, agreeing.other_bodies)
    return dataclasses.replace(overall, same_body_shift=same_body, other_body_shift=other_bodies)
