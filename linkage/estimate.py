"""Learning a model's m and u from the records themselves (expectation maximisation, as Splink does).

* u (how often a level occurs between two *different* people) comes from random record pairs,
  which are almost all non-matches.
* m (how often it occurs between two records of the *same* person) comes from EM over blocked
  candidate pairs in training sessions, with u held fixed, which keeps EM from drifting to a
  "same family" cluster.
* Household fields get a second u among different people who share a family name
  (``household_u``).
* Pairs the installation's reviewers decided *same* are labelled matches: each training session
  counts them into m as certain observations beside EM's posteriors (semi-supervised EM), so
  the levels reviewers confirm — a call name, a street spelled alike — weigh what they showed.
  A pair decided *different* is a labelled non-match; u comes from random pairs, so it adds
  nothing to m and is left out of the session's prior.

The prior is calibrated afterwards (``linkage.calibrate``). Nothing here is tuned to a data set:
every number is estimated from the records at hand.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import numpy as np

from kim_hub.linkage.blocking_arrays import key_hash, pairs_sharing, unique_keys
from kim_hub.linkage.columnar import NONE, EncodingArrays, from_encodings
from kim_hub.linkage.compare import FAMILY, FIELDS, GIVEN, LEVELS, MISSING
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.encode import RecordEncoding
from kim_hub.linkage.household import household_census, household_pattern
from kim_hub.linkage.model import SAME_FAMILY_LEVEL, MatchModel, value_frequencies_arrays

RANDOM_PAIRS = 60_000
EM_ITERATIONS = 40
SMOOTHING = 1.0  # pseudo-count per level: no level gets probability 0
SessionKey = Callable[[EncodingArrays], tuple[np.ndarray, np.ndarray]]  # (keys, rows) of one training session


def estimate(
    encodings: Mapping[int, RecordEncoding] | EncodingArrays, seed: int = 0, decided_same: np.ndarray | None = None
) -> MatchModel:
    """Learn u from random pairs, then m by EM in training sessions (Splink's approach).

    Each session takes the pairs that share one field's value (the same full birth date; a
    shared family-name token) and runs EM over the *other* fields with u held at its random-pair
    value: within such a block the non-matches look random on the other fields, which is what
    EM with fixed u assumes. Every field's m thus comes from a session that did not block on it.
    The prior is the share of matches among all candidate pairs, estimated last.

    ``decided_same``: the levels (rows of a levels array) of pairs reviewers decided to be one
    person; they join every session as labelled matches (module docstring).
    """
    arr = encodings if isinstance(encodings, EncodingArrays) else from_encodings(encodings)
    labelled = np.empty((0, len(FIELDS)), np.int8) if decided_same is None else decided_same
    u_random = _estimate_u(arr, seed)
    m_estimates: dict[str, list[list[float]]] = {name: [] for name in FIELDS}
    for blocked_fields, key_of in _TRAINING_SESSIONS:
        a, b = _pairs_sharing(arr, key_of, seed)
        gamma = compare_pairs(arr, a, b).levels
        if len(gamma) == 0:
            continue
        labels = labelled.copy()
        for name in blocked_fields:
            gamma[:, FIELDS.index(name)] = MISSING
            labels[:, FIELDS.index(name)] = MISSING
        m, _ = _expectation_maximisation(gamma, u_random, labels)
        for name in FIELDS:
            if name not in blocked_fields:
                m_estimates[name].append(m[name])
    m_final = {
        name: _normalised(list(np.mean(m_estimates[name], axis=0))) if m_estimates[name] else _initial_m(name) for name in FIELDS
    }
    family, given, dates = value_frequencies_arrays(arr)
    of_one_family = family_levels(arr, seed)
    census = household_census(of_one_family, address_levels(arr, seed))
    households = of_one_family[of_one_family[:, GIVEN] == 0]
    if census.rules_out_twins:  # the pattern's pairs are one person here, not two of one family
        households = households[~household_pattern(households)]
    # where a family's pairs in one household are one person nearly always, the household's u
    # (learnt on the premise that they are different people) does not hold: random pairs' u does
    u_same_family = {} if census.rules_out_other_members else household_u(households)
    return MatchModel(
        m=m_final,
        u=u_random,
        u_random=u_random,
        u_same_family=u_same_family,
        household_census=census,
        reviewed_matches=len(labelled),
        matches_per_record=0.5,
        record_count=len(arr),
        family_freq=dict(family),
        given_freq=dict(given),
        date_freq=dict(dates),
    )


HOUSEHOLD_FIELDS = ("birth_date", "sex", "nationality", "birth_place", "address")


def family_levels(arr: EncodingArrays, seed: int = 0) -> np.ndarray:
    """Levels of the sampled pairs that share a family name (the same or a transliteration
    variant): what ``linkage.household.household_census`` counts; those whose given names differ
    outright (different people of one family, almost all) are what ``household_u`` weighs."""
    a, b = _pairs_sharing(arr, _family_key, seed)
    levels = compare_pairs(arr, a, b).levels
    selected: np.ndarray = levels[levels[:, FAMILY] >= SAME_FAMILY_LEVEL]
    return selected


ADDRESS_SAMPLE_PAIRS = 200_000


def address_levels(arr: EncodingArrays, seed: int = 0) -> np.ndarray:
    """Levels of pairs sharing an address (street and number), drawn evenly from all of them, so
    that a shelter's hundreds of residents count as much as they weigh: the co-residents among
    whom ``linkage.household.household_census`` counts the renamed pattern."""
    present = np.flatnonzero(arr.street != NONE)
    a, b = sample_pairs_sharing(arr.street[present], present, len(arr), ADDRESS_SAMPLE_PAIRS, seed)
    levels: np.ndarray = compare_pairs(arr, a, b).levels
    return levels


def sample_pairs_sharing(keys: np.ndarray, rows: np.ndarray, n_rows: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs sharing a key: every pair when there are at most ``count``; otherwise ``count``
    drawn evenly over all pairs of all groups (with replacement: a group is drawn in proportion
    to its pairs, then two distinct members), however large a group."""
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
    sizes = np.diff(np.r_[starts, len(keys)])
    shared = sizes >= 2
    starts, sizes = starts[shared], sizes[shared]
    pairs_per_group = sizes * (sizes - 1) // 2
    total = int(pairs_per_group.sum())
    if total <= count:
        h, r = unique_keys(keys.astype(np.uint64), rows.astype(np.int64))
        return pairs_sharing(h, r, n_rows, int(sizes.max(initial=2)))
    rng = np.random.default_rng(seed)
    group = rng.choice(len(sizes), size=count, p=pairs_per_group / total)
    size = sizes[group]
    i = rng.integers(0, size)
    j = rng.integers(0, size - 1)
    j = j + (j >= i)
    return rows[starts[group] + i], rows[starts[group] + j]


def household_u(levels: np.ndarray) -> dict[str, list[float]]:
    """u of the household fields among different people who share a family name (the pairs of
    ``family_levels`` whose given names differ outright).

    Fellegi–Sunter multiplies evidence as if fields were independent. Within a family they are
    not: siblings and cousins share the family name *and* the address, birth place, nationality
    and often a 01.01. birth year. Counting all of that as independent agreement links sisters.
    By the chain rule P(γ | non-match) = P(family | U) · P(rest | family, U), so once the family
    name agrees, the rest must be weighed with u conditioned on a shared family name. Those
    pairs are taken from the family-name blocks, keeping only pairs whose given names differ
    (almost all non-matches; given names say nothing about a shared address among them).
    """
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


def _pairs_sharing(arr: EncodingArrays, key_of: SessionKey, seed: int) -> tuple[np.ndarray, np.ndarray]:
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
        drawn = random_pairs(rng, n, n_pairs)
        levels = compare_pairs(arr, drawn[:, 0], drawn[:, 1]).levels
        for j, name in enumerate(FIELDS):
            column = levels[:, j]
            for level in range(len(LEVELS[name])):
                counts[name][level] += float((column == level).sum())
    return {name: _normalised(values) for name, values in counts.items()}


SAMPLE_SET_MIN = 22  # from this population size on, ``Random.sample`` draws k = 2 by rejection


def random_pairs(rng: random.Random, n: int, count: int) -> np.ndarray:
    """``[rng.sample(range(n), 2) for _ in range(count)]`` as an int64 array (count × 2): the same
    pairs from the same generator, drawn in bulk (60,000 pairs ~0.1 s → ~0.01 s of a first link).

    For ``n`` of 22 and more ``sample`` draws each of the two by ``randbelow(n)``, which takes the
    top ``n.bit_length()`` bits of one 32-bit word of the generator and draws again while they
    are ``n`` or more, and draws the second again while it equals the first. ``getrandbits(32·w)``
    gives those words in the order drawn (the first in the lowest bits), so the draws are the
    words' top bits, the ones below ``n`` kept, paired in order; a second equal to its first is
    dropped. tests/test_estimate_sampling.py holds it to ``sample`` itself. A small population
    (another algorithm in ``sample``) or one beyond 32 bits goes through ``sample``."""
    if n < SAMPLE_SET_MIN or n.bit_length() > 32:
        return np.array([rng.sample(range(n), 2) for _ in range(count)], dtype=np.int64).reshape(count, 2)
    shift = 32 - n.bit_length()
    pairs = np.empty((count, 2), dtype=np.int64)
    accepted = np.empty(0, dtype=np.int64)  # draws below n, not yet paired
    filled = 0
    while filled < count:
        words = 2 * (count - filled) + 2  # more rounds when some are drawn again
        draws = np.frombuffer(rng.getrandbits(32 * words).to_bytes(4 * words, "little"), dtype="<u4") >> shift
        accepted = np.concatenate([accepted, draws[draws < n].astype(np.int64)])
        while filled < count and len(accepted) >= 2:
            m = min(len(accepted) // 2, count - filled)
            first, second = accepted[0 : 2 * m : 2], accepted[1 : 2 * m : 2]
            equal = np.flatnonzero(first == second)
            good = int(equal[0]) if equal.size else m
            pairs[filled : filled + good, 0] = first[:good]
            pairs[filled : filled + good, 1] = second[:good]
            filled += good
            accepted = accepted[2 * good :]
            if equal.size:  # the second equal to its first: drawn again, i.e. the next draw takes its place
                accepted = np.delete(accepted, 1)
    return pairs


def _expectation_maximisation(
    gamma: np.ndarray, u: dict[str, list[float]], matches: np.ndarray | None = None
) -> tuple[dict[str, list[float]], float]:
    """EM for m and the prior with u fixed; starts from 'higher level = more likely a match'.

    ``matches``: levels of labelled matches, counted into m with certainty every iteration (the
    prior is the unlabelled pairs' own)."""
    m = {name: _initial_m(name) for name in FIELDS}
    known = np.empty((0, len(FIELDS)), np.int8) if matches is None else matches
    known_counts = {
        name: [float(np.count_nonzero(known[:, j] == level)) for level in range(len(LEVELS[name]))]
        for j, name in enumerate(FIELDS)
    }
    prior = 0.3
    columns = [_LevelColumn(gamma[:, j], len(LEVELS[name])) for j, name in enumerate(FIELDS)]
    log_u = np.zeros(len(gamma))
    for column, name in zip(columns, FIELDS):
        log_u += column.lookup(np.log(u[name]))
    for _ in range(EM_ITERATIONS):
        log_m = np.zeros(len(gamma))
        for column, name in zip(columns, FIELDS):
            log_m += column.lookup(np.log(m[name]))
        log_odds = np.log(prior / (1 - prior)) + log_m - log_u
        posterior = 1 / (1 + np.exp(-np.clip(log_odds, -50, 50)))
        prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
        for column, name in zip(columns, FIELDS):
            sums = column.sums(posterior)
            m[name] = _normalised([SMOOTHING + known + total for known, total in zip(known_counts[name], sums)])
    return m, prior


class _LevelColumn:
    """One field's levels over the pairs of an EM session, prepared once for its 40 iterations.

    ``lookup``: each pair's log probability of its level, by one gather (a missing level points at
    a 0.0 after the table: it contributes nothing);
    ``sums`` is ``[posterior[levels == level].sum() for level in …]`` from one gather in level
    order: each level's values form one contiguous run in their original order (a stable sort),
    which numpy sums exactly as it sums the masked copy, so every bit of m stays as it was."""

    def __init__(self, levels: np.ndarray, count: int) -> None:
        self.index = np.where(levels >= 0, levels, count).astype(np.intp)  # levels run 0 … count-1, or MISSING
        self.order = np.argsort(levels, kind="stable")
        self.bounds = np.searchsorted(levels[self.order], np.arange(count + 1)).tolist()
        self.count = count

    def lookup(self, log_probabilities: np.ndarray) -> np.ndarray:
        return np.append(log_probabilities, 0.0)[self.index]

    def sums(self, posterior: np.ndarray) -> list[float]:
        ordered = posterior[self.order]
        return [float(ordered[self.bounds[level] : self.bounds[level + 1]].sum()) for level in range(self.count)]


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]
