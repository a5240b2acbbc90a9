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

from kim_hub.linkage.blocking_arrays import key_hash, pairs_sharing, unique_keys
from kim_hub.linkage.columnar import NONE, EncodingArrays, from_encodings
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS, MISSING, Comparison
from kim_hub.linkage.compare_arrays import PairLevels, compare_pairs
from kim_hub.linkage.encode import RecordEncoding

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
    # log2 odds added to the prior for a pair from one body and from two bodies (see calibrate_body_priors)
    same_body_shift: float = 0.0
    other_body_shift: float = 0.0

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
        levels = comparison.levels
        table = self.level_weights[levels[FAMILY] >= SAME_FAMILY_LEVEL]
        for index, level in enumerate(levels):
            weight = table[index][level]
            if index <= DATE and level == _TOP_LEVEL[index]:
                weight = self._frequency_adjusted(index, comparison, weight)
            total += weight
        return total

    def score_levels(self, pairs: PairLevels, with_prior: bool = True) -> np.ndarray:
        """``score`` for every pair of a ``PairLevels`` batch at once (same tables, same order);
        without the prior: the Bayes factor alone."""
        total = np.full(len(pairs), self.prior_log_odds if with_prior else 0.0)
        same_family = pairs.levels[:, FAMILY] >= SAME_FAMILY_LEVEL
        tokens = {FAMILY: pairs.family_token, GIVEN: pairs.given_token, DATE: pairs.date_token}
        for index in range(len(FIELDS)):
            column = pairs.levels[:, index].astype(np.intp)
            plain = np.asarray(self.level_weights[False][index])[column]
            household = np.asarray(self.level_weights[True][index])[column]
            weight = np.where(same_family, household, plain)
            if index <= DATE:
                top = column == _TOP_LEVEL[index]
                weight = np.where(top, weight + self.frequency_adjustments(index, tokens[index]), weight)
            total += weight
        return total

    @cached_property
    def _frequency_arrays(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The value-frequency tables as sorted arrays (token, count), for lookups in bulk."""
        out = {}
        for index, table in ((FAMILY, self.family_freq), (GIVEN, self.given_freq), (DATE, self.date_freq)):
            keys = np.fromiter(table.keys(), dtype=np.int64, count=len(table))
            counts = np.fromiter(table.values(), dtype=np.float64, count=len(table))
            order = np.argsort(keys)
            out[index] = (keys[order], counts[order])
        return out

    def frequency_adjustments(self, index: int, tokens: np.ndarray) -> np.ndarray:
        """Per pair: the term the frequency adjustment adds (0 where the token is unknown)."""
        keys, counts = self._frequency_arrays[index]
        if len(keys) == 0:
            return np.zeros(len(tokens))
        at = np.minimum(np.searchsorted(keys, tokens), len(keys) - 1)
        known = (tokens != NONE) & (keys[at] == tokens)
        u_value = np.maximum(counts[at] / max(self.record_count, 1), TF_MIN_U)
        u_level = self.u_random[FIELDS[index]][len(LEVELS[FIELDS[index]]) - 1]
        return np.where(known, np.log2(u_level / u_value), 0.0)

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
        if body_a == NONE or body_b == NONE:
            return 0.0
        return self.same_body_shift if body_a == body_b else self.other_body_shift

    def prior_shifts(self, body_a: np.ndarray, body_b: np.ndarray) -> np.ndarray:
        """``prior_shift`` of many pairs."""
        known = (body_a != NONE) & (body_b != NONE)
        return np.where(known, np.where(body_a == body_b, self.same_body_shift, self.other_body_shift), 0.0)

    def bayes_factor(self, comparison: Comparison) -> float:
        """log2 Bayes factor of a pair, without the prior."""
        return self.score(comparison) - math.log2(self.prior / (1 - self.prior))

    def applied_to(self, encodings: Collection[RecordEncoding] | EncodingArrays) -> MatchModel:
        """The same parameters applied to the index as it is now (its size and value frequencies)."""
        if isinstance(encodings, EncodingArrays):
            family, given, dates = value_frequencies_arrays(encodings)
        else:
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
            same_body_shift=self.same_body_shift,
            other_body_shift=self.other_body_shift,
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
            "same_body_shift": self.same_body_shift,
            "other_body_shift": self.other_body_shift,
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
            same_body_shift=data.get("same_body_shift", 0.0),
            other_body_shift=data.get("other_body_shift", 0.0),
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


def value_frequencies_arrays(arr: EncodingArrays) -> tuple[Counter, Counter, Counter]:
    """``value_frequencies`` on columns: each record counts a token once, however often it has it."""
    tokens = np.concatenate([arr.fam_c, arr.giv_c], axis=2).reshape(len(arr), -1)
    tokens = np.sort(tokens, axis=1)
    first = np.ones(tokens.shape, dtype=bool)
    first[:, 1:] = tokens[:, 1:] != tokens[:, :-1]
    names, name_counts = np.unique(tokens[first & (tokens != NONE)], return_counts=True)
    dates, date_counts = np.unique(arr.d_ymd[arr.d_ymd != NONE], return_counts=True)
    family = Counter(dict(zip(names.tolist(), name_counts.tolist())))
    return family, Counter(family), Counter(dict(zip(dates.tolist(), date_counts.tolist())))


def estimate(encodings: Mapping[int, RecordEncoding] | EncodingArrays, seed: int = 0) -> MatchModel:
    """Learn u from random pairs, then m by EM in training sessions (Splink's approach).

    Each session takes the pairs that share one field's value (the same full birth date; a
    shared family-name token) and runs EM over the *other* fields with u held at its random-pair
    value: within such a block the non-matches look random on the other fields, which is what
    EM with fixed u assumes. Every field's m thus comes from a session that did not block on it.
    The prior is the share of matches among all candidate pairs, estimated last.
    """
    arr = encodings if isinstance(encodings, EncodingArrays) else from_encodings(encodings)
    u_random = _estimate_u(arr, seed)
    m_estimates: dict[str, list[list[float]]] = {name: [] for name in FIELDS}
    for blocked_fields, key_of in _TRAINING_SESSIONS:
        a, b = _pairs_sharing(arr, key_of, seed)
        gamma = compare_pairs(arr, a, b).levels
        if len(gamma) == 0:
            continue
        for name in blocked_fields:
            gamma[:, FIELDS.index(name)] = MISSING
        m, _ = _expectation_maximisation(gamma, u_random)
        for name in FIELDS:
            if name not in blocked_fields:
                m_estimates[name].append(m[name])
    m_final = {
        name: _normalised(list(np.mean(m_estimates[name], axis=0))) if m_estimates[name] else _initial_m(name) for name in FIELDS
    }
    family, given, dates = value_frequencies_arrays(arr)
    return MatchModel(
        m=m_final,
        u=u_random,
        u_random=u_random,
        u_same_family=household_u(arr, seed),
        matches_per_record=0.5,
        record_count=len(arr),
        family_freq=dict(family),
        given_freq=dict(given),
        date_freq=dict(dates),
    )


def calibrate_prior(model: MatchModel, candidates: Sequence[Comparison] | PairLevels) -> float:
    """Set how many matching pairs the index holds per record, which gives the prior.

    As Splink's ``estimate_probability_two_random_records_match``: count the candidate pairs
    that agree exactly on family name, given names and a precise birth date (almost all of them
    are matches), and divide by the share of all matches that agree so (from m). The prior then
    falls as the index grows, so a bigger population, with more people of the same name and
    placeholder date, needs more evidence for a link: precision does not decay with size.
    """
    top = {name: len(LEVELS[name]) - 1 for name in ("family_name", "given_names", "birth_date")}
    if isinstance(candidates, PairLevels):
        levels = candidates.levels
        agreeing = int(
            (
                (levels[:, FAMILY] == top["family_name"])
                & (levels[:, GIVEN] == top["given_names"])
                & (levels[:, DATE] == top["birth_date"])
            ).sum()
        )
    else:
        agreeing = sum(
            1
            for c in candidates
            if c.levels[FAMILY] == top["family_name"]
            and c.levels[GIVEN] == top["given_names"]
            and c.levels[DATE] == top["birth_date"]
        )
    return calibrate_prior_from_count(model, agreeing)


def calibrate_prior_from_count(model: MatchModel, agreeing: int) -> float:
    """``calibrate_prior`` from the count of exactly agreeing pairs alone (what a batched pass
    over the pairs leaves behind; ``linkage.link.count_agreeing_pairs``)."""
    n = model.record_count
    recall = _exact_agreement_recall(model)
    if n >= 2 and agreeing and recall > 0:
        model.matches_per_record = agreeing / recall / n
    return model.prior


def calibrate_body_priors(model: MatchModel, bodies: np.ndarray, same_body: int, other_bodies: int) -> None:
    """One prior for pairs from one body and one for pairs from two bodies, as shifts of the
    overall prior, each calibrated like it from its own count of exactly agreeing pairs.

    A body seldom keeps two records of one person (a duplicate intake), while a person served
    by two bodies has a record in each: measured on a million generated records, pairs from one
    body are one person 3.6 to 4.4 bits less often than the overall prior says, pairs across
    bodies 0.5 to 0.8 bits more often. One prior for both over-links duplicates within a body
    and under-links across bodies, the Rechtskreiswechsel the hub exists for. A kind without
    any agreeing pair (or unknown bodies) keeps the overall prior."""
    model.same_body_shift = model.other_body_shift = 0.0
    known = bodies[bodies != NONE]
    recall = _exact_agreement_recall(model)
    if len(known) < 2 or recall <= 0:
        return
    per_body = np.bincount(known).astype(np.float64)
    pairs_same = float((per_body * (per_body - 1) / 2).sum())
    pairs_other = len(known) * (len(known) - 1) / 2 - pairs_same
    overall = model.prior_log_odds
    for count, pairs, name in ((same_body, pairs_same, "same_body_shift"), (other_bodies, pairs_other, "other_body_shift")):
        if count and pairs:
            share = min(count / recall / pairs, 0.5)
            setattr(model, name, math.log2(share / (1 - share)) - overall)


def _exact_agreement_recall(model: MatchModel) -> float:
    """Share of all matching pairs that agree exactly on family name, given names and date (from m)."""
    top = {name: len(LEVELS[name]) - 1 for name in ("family_name", "given_names", "birth_date")}
    return (
        model.m["family_name"][top["family_name"]]
        * model.m["given_names"][top["given_names"]]
        * model.m["birth_date"][top["birth_date"]]
    )


HOUSEHOLD_FIELDS = ("birth_date", "sex", "nationality", "birth_place", "address")
SAME_FAMILY_LEVEL = 3  # family name the same or a transliteration variant


def household_u(encodings: Mapping[int, RecordEncoding] | EncodingArrays, seed: int = 0) -> dict[str, list[float]]:
    """u of the household fields among different people who share a family name.

    Fellegi–Sunter multiplies evidence as if fields were independent. Within a family they are
    not: siblings and cousins share the family name *and* the address, birth place, nationality
    and often a 01.01. birth year. Counting all of that as independent agreement links sisters.
    By the chain rule P(γ | non-match) = P(family | U) · P(rest | family, U), so once the family
    name agrees, the rest must be weighed with u conditioned on a shared family name. Those
    pairs are taken from the family-name blocks, keeping only pairs whose given names differ
    (almost all non-matches; given names say nothing about a shared address among them).
    """
    arr = encodings if isinstance(encodings, EncodingArrays) else from_encodings(encodings)
    a, b = _pairs_sharing(arr, _family_key, seed)
    levels = compare_pairs(arr, a, b).levels
    levels = levels[(levels[:, GIVEN] == 0) & (levels[:, FAMILY] >= SAME_FAMILY_LEVEL)]
    if len(levels) < MIN_HOUSEHOLD_PAIRS:
        return {}
    counts = {}
    for name in HOUSEHOLD_FIELDS:
        column = levels[:, FIELDS.index(name)]
        counts[name] = [SMOOTHING + float((column == level).sum()) for level in range(len(LEVELS[name]))]
    return {name: _normalised(values) for name, values in counts.items()}


MIN_HOUSEHOLD_PAIRS = 50


def _family_key(arr: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    """Every canonical family-name token of every spelling, with its row."""
    rows = np.broadcast_to(np.arange(len(arr))[:, None, None], arr.fam_c.shape)
    present = arr.fam_c != NONE
    return arr.fam_c[present], rows[present]


def _date_key(arr: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    present = arr.d_ymd != NONE
    return arr.d_ymd[present], np.flatnonzero(present)


def _name_key(arr: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    """Family and given token together: blocking on the family name alone fills the block with
    siblings, whom EM would take for matches (same address, place, nationality).

    A shared name also means a shared origin, so in this session sex, nationality and birth
    place agree far more often than between random records; they are left out of it too."""
    family = arr.fam_c[:, :, :, None]
    given = arr.giv_c[:, :, None, :]
    family, given = np.broadcast_arrays(family, given)
    rows = np.broadcast_to(np.arange(len(arr))[:, None, None, None], family.shape)
    present = (family != NONE) & (given != NONE)
    return key_hash("name-session", family[present], given[present]), rows[present]


def _identifier_key(arr: EncodingArrays) -> tuple[np.ndarray, np.ndarray]:
    """The AZR number: pairs sharing it are nearly all matches, which pins down m for the
    fields that a shared name or date cannot (a different birth date between two records of
    one person is rare, but common-name strangers make it look frequent in the name session)."""
    present = arr.azr != NONE
    return arr.azr[present], np.flatnonzero(present)


_TRAINING_SESSIONS = (
    (("birth_date",), _date_key),
    (("family_name", "given_names", "sex", "nationality", "birth_place"), _name_key),
    (("azr", "jobcenter_no"), _identifier_key),
)
SESSION_MAX_BLOCK = 60
SESSION_MAX_PAIRS = 200_000


def _pairs_sharing(arr: EncodingArrays, key_of, seed: int) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Row pairs sharing a session key (blocks of at most SESSION_MAX_BLOCK), sampled down to
    SESSION_MAX_PAIRS with a seeded generator."""
    keys, rows = key_of(arr)
    h, r = unique_keys(keys.astype(np.uint64), rows.astype(np.int64))
    a, b = pairs_sharing(h, r, len(arr), SESSION_MAX_BLOCK)
    if len(a) > SESSION_MAX_PAIRS:
        chosen = np.array(random.Random(seed).sample(range(len(a)), SESSION_MAX_PAIRS), dtype=np.int64)
        a, b = a[chosen], b[chosen]
    return a, b


def _initial_m(name: str) -> list[float]:
    return _normalised([2.0**level for level in range(len(LEVELS[name]))])


def _estimate_u(arr: EncodingArrays, seed: int) -> dict[str, list[float]]:
    n = len(arr)
    rng = random.Random(seed)
    counts = {name: [SMOOTHING] * len(levels) for name, levels in LEVELS.items()}
    if n >= 2:
        n_pairs = min(RANDOM_PAIRS, n * (n - 1) // 2)
        drawn = np.array([rng.sample(range(n), 2) for _ in range(n_pairs)], dtype=np.int64)
        levels = compare_pairs(arr, drawn[:, 0], drawn[:, 1]).levels
        for j, name in enumerate(FIELDS):
            column = levels[:, j]
            for level in range(len(LEVELS[name])):
                counts[name][level] += float((column == level).sum())
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
