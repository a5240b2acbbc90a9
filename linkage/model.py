"""The Fellegi–Sunter model as a value: learnt level probabilities, prior, value frequencies, scoring.

A ``MatchModel`` is what estimation (``linkage.estimate``) produces and calibration
(``linkage.calibrate``) adjusts, each returning a new model: the model is frozen, so a stored or
shipped model (``linkage.default_model``) is never changed by using it. It scores one compared pair
(``score``) or a batch of them (``score_levels``) with the same tables:

* u (how often a level occurs between two *different* people) and m (between two records of the
  *same* person) per field and level; the household fields weighed with u among different people
  who share a family name once the family name agrees (``linkage.estimate.household_u``);
* term frequencies, so agreement on a common value ("Mohammed", 01.01.1990) counts less than on a
  rare one;
* a prior that shrinks with the index size, shifted per kind of pair (one body or two).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS, MISSING, Comparison
from kim_hub.linkage.compare_arrays import PairLevels
from kim_hub.linkage.household import HouseholdCensus

TOP_LEVEL = [len(LEVELS[name]) - 1 for name in FIELDS]
TF_MIN_U = 1e-5
SAME_FAMILY_LEVEL = 3  # family name the same or a transliteration variant


@dataclass(frozen=True)
class MatchModel:
    """Learnt parameters: per-field level probabilities, prior, and value frequencies."""

    m: dict[str, list[float]]
    u: dict[str, list[float]]  # among candidate pairs that are not matches
    u_random: dict[str, list[float]]  # among random pairs: the base for frequency adjustment
    matches_per_record: float  # expected matching pairs per record: turns into the prior for any size
    record_count: int
    # u of the household fields among non-matches that share a family name (see household_u)
    u_same_family: dict[str, list[float]] = field(default_factory=dict)
    family_freq: dict[int, int] = field(default_factory=dict)
    given_freq: dict[int, int] = field(default_factory=dict)
    date_freq: dict[int, int] = field(default_factory=dict)
    # log2 odds added to the prior for a pair from one body and from two bodies (linkage.calibrate)
    same_body_shift: float = 0.0
    other_body_shift: float = 0.0
    # the index's households: may its twins' pattern link automatically? (linkage.household)
    household_census: HouseholdCensus = field(default_factory=HouseholdCensus)
    # pairs reviewers had decided to be one person when m was learnt (linkage.estimate)
    reviewed_matches: int = 0

    @property
    def prior(self) -> float:
        """Probability that two random records of the index are the same person."""
        n = max(self.record_count, 2)
        return min(max(2 * self.matches_per_record / (n - 1), 1e-12), 0.5)

    @property
    def prior_log_odds(self) -> float:
        prior = self.prior
        return math.log2(prior / (1 - prior))

    def level_weight(self, field_name: str, level: int, same_family: bool = False) -> float:
        if level == MISSING:
            return 0.0
        u = self.u_same_family.get(field_name) if same_family else None
        return math.log2(self.m[field_name][level] / (u or self.u[field_name])[level])

    @cached_property
    def level_weights(self) -> dict[bool, list[list[float]]]:
        """Level weights per field, for pairs without and with a shared family name.

        Index -1 (MISSING) holds 0: a missing value is no evidence either way."""
        return {
            same_family: [
                [self.level_weight(name, level, same_family) for level in range(len(LEVELS[name]))] + [0.0] for name in FIELDS
            ]
            for same_family in (False, True)
        }

    def score(self, comparison: Comparison) -> float:
        """Match weight (log2 Bayes factor plus prior log-odds) of one compared pair."""
        prior = self.prior
        total = math.log2(prior / (1 - prior))
        for weight in self.field_weights(comparison):
            total += weight
        return total

    def field_weights(self, comparison: Comparison) -> list[float]:
        """What each field adds to the pair's match weight (log2 Bayes factor, in ``FIELDS`` order):
        the terms ``score`` sums, so a reviewer's chart shows the very numbers that decided."""
        levels = comparison.levels
        table = self.level_weights[levels[FAMILY] >= SAME_FAMILY_LEVEL]
        weights = []
        for index, level in enumerate(levels):
            weight = table[index][level]
            if index <= DATE and level == TOP_LEVEL[index]:
                weight = self._frequency_adjusted(index, comparison, weight)
            weights.append(weight)
        return weights

    def score_levels(self, pairs: PairLevels, with_prior: bool = True, as_one_pair: bool = False) -> np.ndarray:
        """``score`` for every pair of a ``PairLevels`` batch at once (same tables, same order);
        without the prior: the Bayes factor alone. ``as_one_pair``: the frequency adjustments'
        logarithms taken as ``score`` takes them (see ``frequency_adjustments``), so that every
        weight equals ``score``'s to the last bit, as the clustering's one-pair weights must."""
        total = np.full(len(pairs), self.prior_log_odds if with_prior else 0.0)
        same_family = pairs.levels[:, FAMILY] >= SAME_FAMILY_LEVEL
        tokens = {FAMILY: pairs.family_token, GIVEN: pairs.given_token, DATE: pairs.date_token}
        for index in range(len(FIELDS)):
            column = pairs.levels[:, index].astype(np.intp)
            plain = np.asarray(self.level_weights[False][index])[column]
            household = np.asarray(self.level_weights[True][index])[column]
            weight = np.where(same_family, household, plain)
            if index <= DATE:  # looked up only for the pairs agreeing on a token
                top = np.flatnonzero(column == TOP_LEVEL[index])
                weight[top] += self.frequency_adjustments(index, tokens[index][top], as_one_pair)
            total += weight
        return total

    @cached_property
    def _frequency_arrays(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per token field: its tokens sorted, and beside each the ratio whose logarithm the
        frequency adjustment adds (u of the top level over the token's u): made once per model, so
        that a batch of pairs looks each adjustment up instead of working it out pair by pair."""
        out = {}
        for index, table in ((FAMILY, self.family_freq), (GIVEN, self.given_freq), (DATE, self.date_freq)):
            keys = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
            counts = np.fromiter(table.values(), dtype=np.float64, count=len(table))
            order = np.argsort(keys)
            u_value = np.maximum(counts[order] / max(self.record_count, 1), TF_MIN_U)
            u_level = self.u_random[FIELDS[index]][len(LEVELS[FIELDS[index]]) - 1]
            out[index] = (keys[order], u_level / u_value)
        return out

    @cached_property
    def _adjustment_logs(self) -> dict[tuple[int, bool], np.ndarray]:
        """The adjustment of each sorted token (``_frequency_arrays``): by numpy's ``log2``, and
        (``True``) by ``math.log2`` once per distinct ratio, as ``_frequency_adjusted`` takes it."""
        out = {}
        for index, (_keys, ratios) in self._frequency_arrays.items():
            out[(index, False)] = np.log2(ratios)
            distinct, inverse = np.unique(ratios, return_inverse=True)
            logs = np.array([math.log2(ratio) for ratio in distinct.tolist()], dtype=np.float64)
            out[(index, True)] = logs[inverse.reshape(-1)]
        return out

    def frequency_adjustments(self, index: int, tokens: np.ndarray, as_one_pair: bool = False) -> np.ndarray:
        """Per pair: the term the frequency adjustment adds (0 where the token is unknown).

        ``as_one_pair``: the logarithm by ``math.log2`` (once per distinct ratio), as
        ``_frequency_adjusted`` takes it: numpy's ``log2`` differs from it in the last bit for
        about one value in two thousand."""
        keys, _ratios = self._frequency_arrays[index]
        if len(keys) == 0:
            return np.zeros(len(tokens))
        at = np.minimum(np.searchsorted(keys, tokens), len(keys) - 1)
        known = (tokens != NONE) & (keys[at] == tokens)
        return np.where(known, self._adjustment_logs[(index, as_one_pair)][at], 0.0)

    def _frequency_adjusted(self, index: int, comparison: Comparison, weight: float) -> float:
        """Replace u of an exact agreement by the frequency of the agreeing value (Splink's TF)."""
        table, token = {
            FAMILY: (self.family_freq, comparison.family_token),
            GIVEN: (self.given_freq, comparison.given_token),
            DATE: (self.date_freq, comparison.date_token),
        }[index]
        if token is None or token not in table:
            return weight
        field_name = FIELDS[index]
        top = len(LEVELS[field_name]) - 1
        u_value = max(table[token] / max(self.record_count, 1), TF_MIN_U)
        u_level = self.u_random[field_name][top]
        # only ever weaken or strengthen relative to the average agreeing value
        return weight + math.log2(u_level / u_value)

    def prior_shift(self, body_a: int, body_b: int) -> float:
        """What a pair's kind (one body or two) adds to the prior log-odds; 0 where a body is unknown."""
        if NONE in (body_a, body_b):
            return 0.0
        return self.same_body_shift if body_a == body_b else self.other_body_shift

    def prior_shifts(self, body_a: np.ndarray, body_b: np.ndarray) -> np.ndarray:
        """``prior_shift`` of many pairs."""
        known = (body_a != NONE) & (body_b != NONE)
        return np.where(known, np.where(body_a == body_b, self.same_body_shift, self.other_body_shift), 0.0)

    def applied_to(self, arr: EncodingArrays) -> MatchModel:
        """The same parameters applied to the index as it is now (its size and value frequencies)."""
        family, given, dates = value_frequencies_arrays(arr)
        return MatchModel(
            m=self.m,
            u=self.u,
            u_random=self.u_random,
            matches_per_record=self.matches_per_record,
            record_count=len(arr),
            u_same_family=self.u_same_family,
            family_freq=dict(family),
            given_freq=dict(given),
            date_freq=dict(dates),
            same_body_shift=self.same_body_shift,
            other_body_shift=self.other_body_shift,
            household_census=self.household_census,
            reviewed_matches=self.reviewed_matches,
        )

    def to_dict(self) -> dict[str, Any]:
        """The learnt parameters (no value frequencies: they are recomputed from the index)."""
        return {
            "fields": list(FIELDS),
            "m": self.m,
            "u": self.u,
            "u_random": self.u_random,
            "matches_per_record": self.matches_per_record,
            "record_count": self.record_count,
            "u_same_family": self.u_same_family,
            "same_body_shift": self.same_body_shift,
            "other_body_shift": self.other_body_shift,
            "household_census": dataclasses.asdict(self.household_census),
            "reviewed_matches": self.reviewed_matches,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchModel:
        """The parameters as ``to_dict`` stored them, in this release's levels (see
        ``_with_added_levels``)."""
        return cls(
            m=_with_added_levels(data["m"]),
            u=_with_added_levels(data["u"]),
            u_random=_with_added_levels(data["u_random"]),
            matches_per_record=data["matches_per_record"],
            record_count=data["record_count"],
            u_same_family=_with_added_levels(data.get("u_same_family", {})),
            same_body_shift=data.get("same_body_shift", 0.0),
            other_body_shift=data.get("other_body_shift", 0.0),
            household_census=HouseholdCensus(**data.get("household_census", {})),
            reviewed_matches=data.get("reviewed_matches", 0),
        )


# Levels a release inserted into a field's scale (field: position): the address's "near" level
# (a postcode one typo apart, a street spelled alike) came after the three it sits below.
ADDED_LEVELS = {"address": 1}
_ADDED_SHARE = 1e-3


def _with_added_levels(table: dict[str, list[float]]) -> dict[str, list[float]]:
    """A stored model's per-level table with the levels added since it was learnt, each given
    the same small share in m and u (a weight of 0: no evidence either way until the model is
    learnt again), so that a model version stored by an earlier release keeps scoring pairs."""
    upgraded = dict(table)
    for name, position in ADDED_LEVELS.items():
        values = table.get(name)
        if values is not None and len(values) == len(LEVELS[name]) - 1:
            widened = [v * (1 - _ADDED_SHARE) for v in values]
            widened.insert(position, _ADDED_SHARE)
            upgraded[name] = widened
    return upgraded


def probability(weight: float) -> float:
    """Match weight → posterior probability."""
    if weight > 60:
        return 1.0
    return float(2**weight / (1 + 2**weight))


def value_frequencies_arrays(arr: EncodingArrays) -> tuple[Counter[int], Counter[int], Counter[int]]:
    """How many records carry each canonical name token (family and given counted together:
    swapped names put family tokens in given) and each full birth date; a record counts a token
    once, however often it has it."""
    if len(arr) == 0:
        return Counter(), Counter(), Counter()
    tokens = np.concatenate([arr.fam_c, arr.giv_c], axis=2).reshape(len(arr), -1)
    tokens = np.sort(tokens, axis=1)
    first = np.ones(tokens.shape, dtype=bool)
    first[:, 1:] = tokens[:, 1:] != tokens[:, :-1]
    names, name_counts = np.unique(tokens[first & (tokens != NONE)], return_counts=True)
    dates, date_counts = np.unique(arr.d_ymd[arr.d_ymd != NONE], return_counts=True)
    family = Counter(dict(zip(names.tolist(), name_counts.tolist())))
    return family, Counter(family), Counter(dict(zip(dates.tolist(), date_counts.tolist())))
