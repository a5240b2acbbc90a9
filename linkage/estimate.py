"""Fellegi–Sunter parameters learnt from the data itself.

* u (how often a level occurs between two *different* people) comes from random record pairs,
  which are almost all non-matches.
* m (how often it occurs between two records of the *same* person) and the share of matches
  among candidate pairs come from expectation maximisation over the blocked candidate pairs,
  with u held fixed (as Splink does), which keeps EM from drifting to a "same family" cluster.
* Term frequencies make agreement on a common value weaker than on a rare one: the same
  "Mohammed" or the same 01.01.1990 placeholder date is far weaker evidence than a rare name.

Nothing here is tuned to a data set: every number is estimated from the records at hand.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS, MISSING, Comparison, compare
from linkage.encode import RecordEncoding

RANDOM_PAIRS = 60_000
_TOP_LEVEL = [len(LEVELS[name]) - 1 for name in FIELDS]
EM_ITERATIONS = 40
SMOOTHING = 1.0  # pseudo-count per level: no level gets probability 0
TF_MIN_U = 1e-5


@dataclass
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

    @property
    def prior(self) -> float:
        """Probability that two random records of the index are the same person."""
        n = max(self.record_count, 2)
        return min(max(2 * self.matches_per_record / (n - 1), 1e-12), 0.5)

    def level_weight(self, field_name: str, level: int, same_family: bool = False) -> float:
        if level == MISSING:
            return 0.0
        u = self.u_same_family.get(field_name) if same_family else None
        return math.log2(self.m[field_name][level] / (u or self.u[field_name])[level])

    @cached_property
    def _weights(self) -> dict[bool, list[list[float]]]:
        """Level weights per field, for pairs without and with a shared family name.

        Index -1 (MISSING) holds 0: a missing value is no evidence either way."""
        return {
            same_family: [
                [self.level_weight(name, level, same_family) for level in range(len(LEVELS[name]))] + [0.0]
                for name in FIELDS
            ]
            for same_family in (False, True)
        }

    def score(self, comparison: Comparison) -> float:
        """Match weight (log2 Bayes factor plus prior log-odds) of one compared pair."""
        prior = self.prior
        total = math.log2(prior / (1 - prior))
        levels = comparison.levels
        table = self._weights[levels[FAMILY] >= SAME_FAMILY_LEVEL]
        for index, level in enumerate(levels):
            weight = table[index][level]
            if index <= DATE and level == _TOP_LEVEL[index]:
                weight = self._frequency_adjusted(index, comparison, weight)
            total += weight
        return total

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

    def bayes_factor(self, comparison: Comparison) -> float:
        """log2 Bayes factor of a pair, without the prior."""
        return self.score(comparison) - math.log2(self.prior / (1 - self.prior))

    def applied_to(self, encodings: Collection[RecordEncoding]) -> MatchModel:
        """The same parameters applied to the index as it is now (its size and value frequencies)."""
        family, given, dates = value_frequencies(encodings)
        return MatchModel(
            m=self.m,
            u=self.u,
            u_random=self.u_random,
            matches_per_record=self.matches_per_record,
            record_count=len(encodings),
            u_same_family=self.u_same_family,
            family_freq=dict(family),
            given_freq=dict(given),
            date_freq=dict(dates),
        )

    def to_dict(self) -> dict:
        """The learnt parameters (no value frequencies: they are recomputed from the index)."""
        return {
            "fields": list(FIELDS),
            "m": self.m,
            "u": self.u,
            "u_random": self.u_random,
            "matches_per_record": self.matches_per_record,
            "record_count": self.record_count,
            "u_same_family": self.u_same_family,
        }

    @classmethod
    def from_dict(cls, data: dict) -> MatchModel:
        return cls(
            m=data["m"],
            u=data["u"],
            u_random=data["u_random"],
            matches_per_record=data["matches_per_record"],
            record_count=data["record_count"],
            u_same_family=data.get("u_same_family", {}),
        )


def probability(weight: float) -> float:
    """Match weight → posterior probability."""
    if weight > 60:
        return 1.0
    return 2**weight / (1 + 2**weight)


def value_frequencies(encodings: Iterable[RecordEncoding]) -> tuple[Counter, Counter, Counter]:
    """How many records carry each canonical family token, given token and full date."""
    family: Counter[int] = Counter()
    given: Counter[int] = Counter()
    dates: Counter[int] = Counter()
    for enc in encodings:
        fam_tokens = {t[0] for name in enc.names for t in name.family}
        giv_tokens = {t[0] for name in enc.names for t in name.given}
        family.update(fam_tokens | giv_tokens)  # swapped names put family tokens in given
        given.update(giv_tokens | fam_tokens)
        if enc.birth_date and enc.birth_date.ymd is not None:
            dates[enc.birth_date.ymd] += 1
    return family, given, dates


def estimate(encodings: Mapping[int, RecordEncoding], seed: int = 0) -> MatchModel:
    """Learn u from random pairs, then m by EM in training sessions (Splink's approach).

    Each session takes the pairs that share one field's value (the same full birth date; a
    shared family-name token) and runs EM over the *other* fields with u held at its random-pair
    value: within such a block the non-matches look random on the other fields, which is what
    EM with fixed u assumes. Every field's m thus comes from a session that did not block on it.
    The prior is the share of matches among all candidate pairs, estimated last.
    """
    u_random = _estimate_u(encodings, seed)
    m_estimates: dict[str, list[list[float]]] = {name: [] for name in FIELDS}
    for blocked_fields, key_of in _TRAINING_SESSIONS:
        pairs = _pairs_sharing(encodings, key_of, seed)
        gamma = _gamma(encodings, pairs)
        if len(gamma) == 0:
            continue
        for name in blocked_fields:
            gamma[:, FIELDS.index(name)] = MISSING
        m, _ = _expectation_maximisation(gamma, u_random)
        for name in FIELDS:
            if name not in blocked_fields:
                m_estimates[name].append(m[name])
    m_final = {
        name: _normalised(list(np.mean(m_estimates[name], axis=0))) if m_estimates[name] else _initial_m(name)
        for name in FIELDS
    }
    family, given, dates = value_frequencies(encodings.values())
    return MatchModel(
        m=m_final,
        u=u_random,
        u_random=u_random,
        u_same_family=household_u(encodings, seed),
        matches_per_record=0.5,
        record_count=len(encodings),
        family_freq=dict(family),
        given_freq=dict(given),
        date_freq=dict(dates),
    )


def calibrate_prior(model: MatchModel, candidates: Sequence[Comparison]) -> float:
    """Set how many matching pairs the index holds per record, which gives the prior.

    As Splink's ``estimate_probability_two_random_records_match``: count the candidate pairs
    that agree exactly on family name, given names and a precise birth date (almost all of them
    are matches), and divide by the share of all matches that agree so (from m). The prior then
    falls as the index grows, so a bigger population, with more people of the same name and
    placeholder date, needs more evidence for a link: precision does not decay with size.
    """
    n = model.record_count
    top = {name: len(LEVELS[name]) - 1 for name in ("family_name", "given_names", "birth_date")}
    agreeing = sum(
        1
        for c in candidates
        if c.levels[FAMILY] == top["family_name"] and c.levels[GIVEN] == top["given_names"] and c.levels[DATE] == top["birth_date"]
    )
    recall = model.m["family_name"][top["family_name"]] * model.m["given_names"][top["given_names"]] * model.m["birth_date"][top["birth_date"]]
    if n >= 2 and agreeing and recall > 0:
        model.matches_per_record = agreeing / recall / n
    return model.prior


HOUSEHOLD_FIELDS = ("birth_date", "sex", "nationality", "birth_place", "address")
SAME_FAMILY_LEVEL = 3  # family name the same or a transliteration variant


def household_u(encodings: Mapping[int, RecordEncoding], seed: int = 0) -> dict[str, list[float]]:
    """u of the household fields among different people who share a family name.

    Fellegi–Sunter multiplies evidence as if fields were independent. Within a family they are
    not: siblings and cousins share the family name *and* the address, birth place, nationality
    and often a 01.01. birth year. Counting all of that as independent agreement links sisters.
    By the chain rule P(γ | non-match) = P(family | U) · P(rest | family, U), so once the family
    name agrees, the rest must be weighed with u conditioned on a shared family name. Those
    pairs are taken from the family-name blocks, keeping only pairs whose given names differ
    (almost all non-matches; given names say nothing about a shared address among them).
    """
    pairs = _pairs_sharing(encodings, _family_key, seed)
    counts = {name: [SMOOTHING] * len(LEVELS[name]) for name in HOUSEHOLD_FIELDS}
    used = 0
    for a, b in pairs:
        levels = compare(encodings[a], encodings[b]).levels
        if levels[GIVEN] not in (0,) or levels[FAMILY] < SAME_FAMILY_LEVEL:
            continue
        used += 1
        for name in HOUSEHOLD_FIELDS:
            level = levels[FIELDS.index(name)]
            if level != MISSING:
                counts[name][level] += 1
    if used < MIN_HOUSEHOLD_PAIRS:
        return {}
    return {name: _normalised(values) for name, values in counts.items()}


MIN_HOUSEHOLD_PAIRS = 50


def _family_key(enc: RecordEncoding) -> Iterable[int]:
    return {t[0] for name in enc.names for t in name.family}


def _date_key(enc: RecordEncoding) -> Iterable[int]:
    if enc.birth_date is not None and enc.birth_date.ymd is not None:
        yield enc.birth_date.ymd


def _name_key(enc: RecordEncoding) -> Iterable[int]:
    """Family and given token together: blocking on the family name alone fills the block with
    siblings, whom EM would take for matches (same address, place, nationality).

    A shared name also means a shared origin, so in this session sex, nationality and birth
    place agree far more often than between random records; they are left out of it too."""
    return {
        hash((f[0], g[0])) for name in enc.names for f in name.family for g in name.given
    }


def _identifier_key(enc: RecordEncoding) -> Iterable[int]:
    """The AZR number: pairs sharing it are nearly all matches, which pins down m for the
    fields that a shared name or date cannot (a different birth date between two records of
    one person is rare, but common-name strangers make it look frequent in the name session)."""
    return (enc.azr,) if enc.azr is not None else ()


_TRAINING_SESSIONS = (
    (("birth_date",), _date_key),
    (("family_name", "given_names", "sex", "nationality", "birth_place"), _name_key),
    (("azr", "jobcenter_no"), _identifier_key),
)
SESSION_MAX_BLOCK = 60
SESSION_MAX_PAIRS = 200_000


def _pairs_sharing(encodings: Mapping[int, RecordEncoding], key_of, seed: int) -> list[tuple[int, int]]:
    blocks: dict[int, list[int]] = {}
    for record_id, enc in encodings.items():
        for key in key_of(enc):
            blocks.setdefault(key, []).append(record_id)
    pairs = set()
    for members in blocks.values():
        if 2 <= len(members) <= SESSION_MAX_BLOCK:
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    pairs.add((a, b))
    ordered = sorted(pairs)
    if len(ordered) > SESSION_MAX_PAIRS:
        ordered = random.Random(seed).sample(ordered, SESSION_MAX_PAIRS)
    return ordered


def _gamma(encodings: Mapping[int, RecordEncoding], pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    rows = [compare(encodings[a], encodings[b]).levels for a, b in pairs]
    return np.array(rows, dtype=np.int8).reshape(-1, len(FIELDS))


def _initial_m(name: str) -> list[float]:
    return _normalised([2.0**level for level in range(len(LEVELS[name]))])


def _estimate_u(encodings: Mapping[int, RecordEncoding], seed: int) -> dict[str, list[float]]:
    ids = list(encodings)
    rng = random.Random(seed)
    counts = {name: [SMOOTHING] * len(levels) for name, levels in LEVELS.items()}
    if len(ids) >= 2:
        n_pairs = min(RANDOM_PAIRS, len(ids) * (len(ids) - 1) // 2)
        for _ in range(n_pairs):
            a, b = rng.sample(ids, 2)
            for name, level in zip(FIELDS, compare(encodings[a], encodings[b]).levels):
                if level != MISSING:
                    counts[name][level] += 1
    return {name: _normalised(values) for name, values in counts.items()}


def _expectation_maximisation(gamma: np.ndarray, u: dict[str, list[float]]) -> tuple[dict[str, list[float]], float]:
    """EM for m and the prior with u fixed; starts from 'higher level = more likely a match'."""
    m = {name: _initial_m(name) for name in FIELDS}
    prior = 0.3
    log_u = np.zeros(len(gamma))
    for j, name in enumerate(FIELDS):
        log_u += _lookup(np.log(u[name]), gamma[:, j])
    for _ in range(EM_ITERATIONS):
        log_m = np.zeros(len(gamma))
        for j, name in enumerate(FIELDS):
            log_m += _lookup(np.log(m[name]), gamma[:, j])
        log_odds = np.log(prior / (1 - prior)) + log_m - log_u
        posterior = 1 / (1 + np.exp(-np.clip(log_odds, -50, 50)))
        prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
        for j, name in enumerate(FIELDS):
            column = gamma[:, j]
            levels = range(len(LEVELS[name]))
            m[name] = _normalised([SMOOTHING + float(posterior[column == level].sum()) for level in levels])
    return m, prior


def _lookup(log_probabilities: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per-pair log probability of each pair's level; missing levels contribute nothing."""
    values = np.where(levels >= 0, log_probabilities[np.clip(levels, 0, None)], 0.0)
    return values


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]
