"""Comparison levels for arrays of record pairs: ``linkage.compare`` over whole columns.

The levels, their order and every rule are those of ``linkage.compare`` (which stays the
reference and is what review evidence and the clustering's one-off pairs use); here each rule is
one array expression over a batch of pairs, so a million pairs cost a few numpy passes instead of
a million Python calls. ``tests/test_compare_arrays.py`` checks both give the same levels and
tokens on every candidate pair of a generated population.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np

from kim_hub.linkage.columnar import NONE, EncodingArrays, popcount
from kim_hub.linkage.compare import (
    AZR_ALONE,
    FAMILY,
    FIELDS,
    JOBCENTER_NO_ALONE,
    MISSING,
    NAME_BLOOM_CLOSE,
    NAME_BLOOM_SIMILAR,
    PLACE_BLOOM_SIMILAR,
)
from kim_hub.linkage.household import NOTHING_RELEASED, Release
from kim_hub.linkage.keyed import PLAIN_BLOOM, PLAIN_DISTANCE
from kim_hub.linkage.rule_tables import apply_rule, rule_table
from kim_hub.linkage.value_classes import ClassTable, TablesPerArrays, class_table

_PLAIN_DISTANCE = np.array(PLAIN_DISTANCE)  # keyed.bloom_similarity's table, for lookups in bulk
BATCH = 200_000  # pairs compared at a time: bounds each batch's temporaries
_BIG = np.iinfo(np.int64).max
_BEST_SWAPPED = 7  # the best total a swapped comparison can reach (4 + 4 - 1)
_AZR, _JC, _GIVEN, _DATE, _SEX, _NATIONALITY, _PLACE, _ADDRESS = (
    FIELDS.index(name)
    for name in ("azr", "jobcenter_no", "given_names", "birth_date", "sex", "nationality", "birth_place", "address")
)


@dataclass
class PairLevels:
    """Levels of many pairs (int8 [P, fields]) and the tokens frequency adjustment needs (NONE = none)."""

    levels: np.ndarray
    family_token: np.ndarray
    given_token: np.ndarray
    date_token: np.ndarray
    swapped: np.ndarray

    def __len__(self) -> int:
        return len(self.levels)

    def select(self, mask: np.ndarray) -> PairLevels:
        return PairLevels(
            self.levels[mask], self.family_token[mask], self.given_token[mask], self.date_token[mask], self.swapped[mask]
        )

    @staticmethod
    def concat(parts: list[PairLevels]) -> PairLevels:
        if not parts:
            return compare_pairs(None, np.empty(0, np.int64), np.empty(0, np.int64))
        return PairLevels(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("levels", "family_token", "given_token", "date_token", "swapped")
            )
        )


def compare_pairs(arr: EncodingArrays | None, a: np.ndarray, b: np.ndarray) -> PairLevels:
    """Levels of the pairs (rows a[k], b[k]), batch by batch."""
    if len(a) == 0 or arr is None:
        empty = np.empty(0, np.int64)
        return PairLevels(np.empty((0, len(FIELDS)), np.int8), empty, empty, empty, np.empty(0, bool))
    parts = [_compare_batch(arr, a[s : s + BATCH], b[s : s + BATCH]) for s in range(0, len(a), BATCH)]
    return parts[0] if len(parts) == 1 else PairLevels.concat(parts)


def individual_evidence(levels: np.ndarray, released: Release = NOTHING_RELEASED) -> np.ndarray:
    """``linkage.compare.individual_evidence`` for every row of a levels array; a pair of a
    pattern the installation let go (``linkage.household.Release``: its reviewers' decisions or
    its households' census showed such pairs to be one person) counts as well."""
    given, date = levels[:, _GIVEN], levels[:, _DATE]
    with_person = (levels[:, FAMILY] >= 1) | (date >= 1)
    azr = (levels[:, _AZR] >= 1) & (AZR_ALONE | with_person)
    jobcenter_no = (levels[:, _JC] == 1) & (JOBCENTER_NO_ALONE | with_person)
    found = (given >= 1) | azr | jobcenter_no | ((given == MISSING) & (date == 6))
    return found | released.released(levels) if released else found


def identifiers_conflict(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``linkage.compare.identifiers_conflict`` for arrays of row pairs."""
    return arr.azr_auth[a] & arr.azr_auth[b] & (_identifier_level(arr, a, b) == 0)


def _compare_batch(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> PairLevels:
    levels, date_token = cheap_levels(arr, a, b)
    return complete_levels(arr, a, b, levels, date_token)


def cheap_levels(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Levels of every field but the names, and the date token: a few cheap passes per batch.

    The name columns are left MISSING and the AZR level 0 ("differ") is provisional:
    ``complete_levels`` compares the names and turns AZR 0 into 1 where the numbers are one typo
    apart. Split this way, a caller can drop hopeless pairs before the costly part (see
    ``linkage.weight_bound``)."""
    date, date_token = _compare_dates(arr, a, b)
    azr_a, azr_b = arr.azr[a], arr.azr[b]
    # int8 columns written in place: stacking nine int64 columns and narrowing them cost as much
    # as comparing the birth dates
    levels = np.empty((len(a), len(FIELDS)), dtype=np.int8)
    levels[:, FAMILY] = MISSING
    levels[:, _GIVEN] = MISSING
    levels[:, _DATE] = date
    levels[:, _SEX] = _equal_level(arr.sex[a], arr.sex[b])
    levels[:, _NATIONALITY] = _nationality_level(arr.nat[a], arr.nat[b])
    levels[:, _PLACE] = _place_level(arr, a, b)
    levels[:, _ADDRESS] = _address_level(arr, a, b)
    levels[:, _AZR] = np.where((azr_a == NONE) | (azr_b == NONE), MISSING, np.where(azr_a == azr_b, 2, 0))
    levels[:, _JC] = _equal_level(arr.jobcenter[a], arr.jobcenter[b])
    return levels, date_token


def complete_levels(arr: EncodingArrays, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray) -> PairLevels:
    """``cheap_levels`` finished: names compared, AZR numbers one typo apart found."""
    pairs = with_names(arr, a, b, levels, date_token)
    resolve_azr_typos(arr, a, b, pairs.levels, np.flatnonzero(pairs.levels[:, _AZR] == 0))
    return pairs


def with_names(arr: EncodingArrays, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray) -> PairLevels:
    """``cheap_levels`` with the names compared; AZR level 0 still provisional."""
    family, given, family_token, given_token, swapped = _compare_names(arr, a, b)
    levels[:, FAMILY] = family
    levels[:, _GIVEN] = given
    return PairLevels(levels, family_token, given_token, date_token, swapped)


def resolve_azr_typos(arr: EncodingArrays, a: np.ndarray, b: np.ndarray, levels: np.ndarray, rows: np.ndarray) -> None:
    """Set AZR level 1 on those ``rows`` (pairs whose numbers differ) one typo apart: the wide
    neighbour comparison, so callers limit it to the rows where it can matter."""
    if len(rows):
        levels[rows, _AZR] = _any_shared(arr.azr_nb[a[rows]], arr.azr_nb[b[rows]])


def date_levels(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The birth-date level alone (one cheap pass; see ``linkage.link.count_agreeing_pairs``)."""
    return _compare_dates(arr, a, b)[0]


@dataclass
class _Part:
    """One name field of one spelling, for a batch of records. Skeletons and Bloom filters
    (128 bytes a record) are gathered only for the pairs whose tokens leave the level open."""

    c: np.ndarray  # [p, T]
    j: np.ndarray  # [p]
    rows: np.ndarray  # [p]: the records' rows, for what is gathered later
    skeletons: np.ndarray  # [n, T]: this spelling's skeleton tokens of every record
    blooms: np.ndarray  # [n, WORDS]: its Bloom filters
    pops: np.ndarray  # [n]: their set bits (of the plain filters)
    schemes: np.ndarray  # [n]: each record's encoding scheme

    @property
    def empty(self) -> np.ndarray:
        return self.c[:, 0] == NONE


def _part(arr: EncodingArrays, rows: np.ndarray, v: int, family: bool) -> _Part:
    """Row gathers by ``np.take`` on the spelling's [n, T] view: several times faster than
    indexing [n, V, T] with (rows, v)."""
    c, s, j, bloom, pop = (
        (arr.fam_c, arr.fam_s, arr.fam_j, arr.fam_bloom, arr.fam_pop)
        if family
        else (arr.giv_c, arr.giv_s, arr.giv_j, arr.giv_bloom, arr.giv_pop)
    )
    return _Part(np.take(c[:, v], rows, axis=0), np.take(j[:, v], rows), rows, s[:, v], bloom[:, v], pop[:, v], arr.scheme)


def _compare_names(
    arr: EncodingArrays, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best (family, given) levels over all spelling pairs and both orientations, as in compare:
    each spelling pair as recorded, swapped at b's intake and swapped at a's, the best by the
    same rank (``compare._name_rank``), so that (a, b) and (b, a) agree.

    A swapped orientation costs a point, so it can only win where the best so far is below
    7 (4 + 4 - 1), or is a swap itself at 7; it is compared only there. Both swaps grade the
    same two cross pairs of name parts, each part pair compared once (``_Agreement``)."""
    p = len(a)
    best_total = np.full(p, -10, dtype=np.int64)
    fam = np.full(p, MISSING, dtype=np.int64)
    giv = np.full(p, MISSING, dtype=np.int64)
    fam_tok = np.full(p, NONE, dtype=np.int64)
    giv_tok = np.full(p, NONE, dtype=np.int64)
    swapped = np.zeros(p, dtype=bool)

    def offer(sel: np.ndarray, family: _Agreement, given: _Agreement, swap: bool) -> None:
        """Keep the candidate where it ranks higher than the best so far."""
        f_level, f_token = _family_level(family)
        g_level, g_token = _given_level(given)
        total = f_level + g_level - (1 if swap else 0)
        better = total > best_total[sel]
        tie = np.flatnonzero(total == best_total[sel])  # the rest of the rank decides these
        at = sel[tie]
        better[tie] = _ranks_higher(
            [
                (np.full(len(tie), not swap), ~swapped[at]),
                (f_level[tie], fam[at]),
                (g_level[tie], giv[at]),
                (fam_tok[at], f_token[tie]),  # the smaller token wins
                (giv_tok[at], g_token[tie]),
            ]
        )
        where = sel[better]
        best_total[where] = total[better]
        fam[where], giv[where] = f_level[better], g_level[better]
        fam_tok[where], giv_tok[where] = f_token[better], g_token[better]
        swapped[where] = swap

    names_a, names_b = arr.n_names[a], arr.n_names[b]
    for va in range(arr.fam_c.shape[1]):
        for vb in range(arr.fam_c.shape[1]):
            both = np.flatnonzero((names_a > va) & (names_b > vb))
            if len(both) == 0:
                continue
            ra, rb = a[both], b[both]
            offer(
                both,
                _Agreement(_part(arr, ra, va, True), _part(arr, rb, vb, True)),
                _Agreement(_part(arr, ra, va, False), _part(arr, rb, vb, False)),
                swap=False,
            )
            sel = both[(best_total[both] < _BEST_SWAPPED) | ((best_total[both] == _BEST_SWAPPED) & swapped[both])]
            if len(sel) == 0:
                continue
            ra, rb = a[sel], b[sel]
            family_given = _Agreement(_part(arr, ra, va, True), _part(arr, rb, vb, False))  # a's family, b's given
            given_family = _Agreement(_part(arr, ra, va, False), _part(arr, rb, vb, True))
            offer(sel, family_given, given_family, swap=True)  # swapped at b's intake
            offer(sel, given_family, family_given, swap=True)  # at a's
    return fam, giv, fam_tok, giv_tok, swapped


def _ranks_higher(keys: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Per pair: is the first of each (first, second) key greater, the first key that differs deciding?"""
    higher = np.zeros(len(keys[0][0]), dtype=bool)
    undecided = np.ones(len(keys[0][0]), dtype=bool)
    for first, second in keys:
        higher |= undecided & (first > second)
        undecided &= first == second
    return higher


def _members(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[p, Tx]: is x's token (not padding) among y's tokens of the same pair?

    Column by column: token lists are a few columns wide, and numpy's passes over a short inner
    axis ([p, T, T] broadcasts and their reductions) cost several times more than whole columns.
    Beyond the first column only the rows that hold a token there are compared: a name has one
    token or two, so the later columns are nearly all padding (at 216,979 generated records 1.03
    family tokens of 4 and 1.36 given tokens of 5 a record; 2.5 times faster)."""
    found = np.zeros(x.shape, dtype=bool)
    first = x[:, 0]
    hit = first == y[:, 0]
    for j in range(1, y.shape[1]):
        hit |= first == y[:, j]
    found[:, 0] = hit & (first != NONE)
    for i in range(1, x.shape[1]):
        rows = np.flatnonzero(x[:, i] != NONE)
        tokens, others = x[rows, i], y[rows]
        hit = tokens == others[:, 0]
        for j in range(1, y.shape[1]):
            hit |= tokens == others[:, j]
        found[rows, i] = hit
    return found


def _any_column(m: np.ndarray) -> np.ndarray:
    """Per row: is any of the few columns true?"""
    out = m[:, 0].copy()
    for k in range(1, m.shape[1]):
        out |= m[:, k]
    return out


def _smallest_where(m: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row: the smallest value whose column is true (``_BIG`` if none)."""
    out = np.where(m[:, 0], values[:, 0], _BIG)
    for k in range(1, m.shape[1]):
        np.minimum(out, np.where(m[:, k], values[:, k], _BIG), out=out)
    return out


class _Agreement:
    """One name part of a batch of records against one of another batch: what the family- and
    the given-name scale grade, compared once (a swapped pair is graded on both scales)."""

    def __init__(self, x: _Part, y: _Part) -> None:
        self.x, self.y = x, y
        self.in_y = _members(x.c, y.c)
        self.shared = _any_column(self.in_y)
        self.smallest = _smallest_where(self.in_y, x.c)
        self.joined = (x.j != NONE) & (x.j == y.j)
        self.missing = x.empty | y.empty
        self.open_ = np.flatnonzero(~(self.missing | self.shared | self.joined))
        xa, ya = x.rows[self.open_], y.rows[self.open_]
        # of the pairs no token decided: a shared skeleton, else the Dice coefficient of the Bloom filters
        self.skeleton = _any_column(_members(np.take(x.skeletons, xa, axis=0), np.take(y.skeletons, ya, axis=0)))
        ra, rb = xa[~self.skeleton], ya[~self.skeleton]
        self.dice = np.zeros(len(self.open_))
        self.dice[~self.skeleton] = _dice(
            np.take(x.blooms, ra, axis=0), np.take(y.blooms, rb, axis=0), x.pops[ra], y.pops[rb], x.schemes[ra], y.schemes[rb]
        )

    @cached_property
    def same_set(self) -> np.ndarray:
        """Both parts hold the same canonical tokens (the given-name scale's "same")."""
        in_x = _members(self.y.c, self.x.c)
        return ~_any_column(~self.in_y & (self.x.c != NONE)) & ~_any_column(~in_x & (self.y.c != NONE))

    def fuzzy_levels(self, skeleton_level: int, close: float | None) -> np.ndarray:
        """Levels of the pairs ``open_``: ``skeleton_level`` for a shared skeleton, else by the
        Dice coefficient: 2 from ``close`` (if given), 1 from similar, else 0."""
        by_dice = np.where(self.dice >= NAME_BLOOM_SIMILAR, 1, 0)
        if close is not None:
            by_dice = np.where(self.dice >= close, 2, by_dice)
        return np.where(self.skeleton, skeleton_level, by_dice)


def _dice(
    x_bloom: np.ndarray, y_bloom: np.ndarray, x_pop: np.ndarray, y_pop: np.ndarray, x_scheme: np.ndarray, y_scheme: np.ndarray
) -> np.ndarray:
    """``keyed.bloom_similarity`` of row pairs: the Dice coefficient of plain filters, estimated
    from the Hamming distance of diffused ones, 0 between the two schemes."""
    total = (x_pop + y_pop).astype(np.int64)
    plain = (x_scheme == PLAIN_BLOOM) & (y_scheme == PLAIN_BLOOM)
    diffused = (x_scheme != PLAIN_BLOOM) & (y_scheme != PLAIN_BLOOM)
    out = np.zeros(len(total))
    if plain.any():
        common = popcount(x_bloom[plain] & y_bloom[plain]).sum(axis=-1, dtype=np.int64)
        out[plain] = np.where(total[plain] > 0, 2 * common / np.maximum(total[plain], 1), 0.0)
    if diffused.any():
        apart = popcount(x_bloom[diffused] ^ y_bloom[diffused]).sum(axis=-1, dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            estimate = 1.0 - _PLAIN_DISTANCE[apart] / total[diffused]
        out[diffused] = np.where(total[diffused] > 0, np.maximum(estimate, 0.0), 0.0)
    return out


def _family_level(g: _Agreement) -> tuple[np.ndarray, np.ndarray]:
    level = np.select([g.missing, g.shared | g.joined], [MISSING, 4], 0)
    level[g.open_] = g.fuzzy_levels(3, NAME_BLOOM_CLOSE)
    token = np.select([g.missing, g.shared, g.joined], [NONE, g.smallest, g.x.j], NONE)
    return level, token


def _given_level(g: _Agreement) -> tuple[np.ndarray, np.ndarray]:
    level = np.select([g.missing, g.joined, g.shared & g.same_set, g.shared], [MISSING, 4, 4, 3], 0)
    level[g.open_] = g.fuzzy_levels(2, None)
    token = np.select([g.missing, g.joined, g.shared], [NONE, g.x.j, g.smallest], NONE)
    return level, token


def _date_rule(facts: tuple[bool, ...]) -> int:
    """``linkage.compare._compare_dates``'s level from the facts of one pair (first rule that holds),
    in the order ``_compare_dates`` gives them."""
    missing, same_day, placeholder_a, placeholder_b, same_year, no_day_a, no_day_b, swapped, same_month, same_month_day = facts
    imprecise = placeholder_a or placeholder_b or no_day_a or no_day_b
    rules = (
        (missing, MISSING),
        (same_day and (placeholder_a or placeholder_b), 5),
        (same_day, 6),
        (placeholder_a and placeholder_b and same_year, 5),
        (same_year and imprecise, 2),
        (same_year and swapped, 4),
        (same_year and same_month, 3),
        (same_year, 1),
        (not imprecise and same_month_day, 3),
    )
    return next((level for holds, level in rules if holds), 0)


_DATE_LEVELS = rule_table(_date_rule, 10)


def _compare_dates(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ymd_a, ymd_b = arr.d_ymd[a], arr.d_ymd[b]
    ph_a, ph_b = arr.d_placeholder[a], arr.d_placeholder[b]
    same_year = arr.d_year[a] == arr.d_year[b]
    missing = ~(arr.d_has[a] & arr.d_has[b])
    no_day_a, no_day_b = ymd_a == NONE, ymd_b == NONE
    same_day = ~no_day_a & (ymd_a == ymd_b)
    ydm_a, md_a = arr.d_ydm[a], arr.d_md[a]
    level = apply_rule(
        _DATE_LEVELS,
        missing,
        same_day,
        ph_a,
        ph_b,
        same_year,
        no_day_a,
        no_day_b,
        (ydm_a != NONE) & (ydm_a == ymd_b),
        arr.d_ym[a] == arr.d_ym[b],
        (md_a != NONE) & (md_a == arr.d_md[b]),
    )
    # the token frequency adjustment reads: the day both share, or the placeholder date's
    token = np.where(same_day & ~missing, ymd_a, NONE)
    shared_placeholder = np.flatnonzero(ph_a & ph_b & same_year & ~same_day & ~missing)
    if len(shared_placeholder):
        x, y = ymd_a[shared_placeholder], ymd_b[shared_placeholder]
        token[shared_placeholder] = np.where(x == NONE, y, np.where(y == NONE, x, np.minimum(x, y)))
    return level, token


def _equal_level(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where((x == NONE) | (y == NONE), MISSING, (x == y).astype(np.int64))


def _any_shared(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pair: do the two wide token lists (the AZR number's 11 digit neighbours, 23 as stored
    by releases up to 2026-12-07) share one? One broadcast: column by column (``_members``) would
    be 121 passes (529 for stored ones), and only the few pairs whose numbers differ come here."""
    return ((x[:, :, None] == y[:, None, :]) & (x[:, :, None] != NONE)).any(axis=(1, 2))


def _nationality_level(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    missing = (x[:, 0] == NONE) | (y[:, 0] == NONE)
    return np.where(missing, MISSING, _any_column(_members(x, y)).astype(np.int64))


def _place_level(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Birth places: looked up by class of place in a large index (``linkage.value_classes``)."""
    table = _PLACE_CLASSES.of(arr)
    return table.levels(a, b) if table is not None else _compared_places(arr, a, b)


def _compared_places(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Birth places pair by pair; the Bloom filters are gathered only for pairs whose tokens differ
    (most records have no birth place, and gathering 128 bytes for every pair was most of this pass)."""
    place_a, place_b = arr.place_c[a], arr.place_c[b]
    missing = (place_a == NONE) | (place_b == NONE)
    same = (place_a == place_b) | (arr.place_s[a] == arr.place_s[b])
    level = np.select([missing, same], [MISSING, 2], 0)
    open_ = np.flatnonzero(~(missing | same))
    ra, rb = a[open_], b[open_]
    dice = _dice(
        np.take(arr.place_bloom, ra, axis=0),
        np.take(arr.place_bloom, rb, axis=0),
        arr.place_pop[ra],
        arr.place_pop[rb],
        arr.scheme[ra],
        arr.scheme[rb],
    )
    level[open_] = np.where(dice >= PLACE_BLOOM_SIMILAR, 1, 0)
    return level


def _place_classes(arr: EncodingArrays) -> ClassTable | None:
    columns = [arr.place_s, arr.place_bloom, arr.place_pop, arr.scheme]
    return class_table(arr.place_c, columns, partial(_compared_places, arr), irrelevant=arr.place_c == NONE)


_PLACE_CLASSES = TablesPerArrays(_place_classes)


def _address_rule(facts: tuple[bool, ...]) -> int:
    """``linkage.compare._address_level``'s level from the facts of one pair before the postcodes'
    one-typo neighbours are looked at (first rule that holds; 0 leaves them to decide), in the
    order ``_address_level`` gives them."""
    same_street, no_postcode, same_postcode, alike, no_street = facts
    rules = (
        (same_street and (no_postcode or same_postcode), 3),
        (same_street, 2),
        (alike and same_postcode, 3),
        (alike and no_postcode, 2),
        (alike, 1),
        (no_postcode and no_street, MISSING),
        (no_postcode, 0),
        (same_postcode, 2),
    )
    return next((level for holds, level in rules if holds), 0)


_ADDRESS_LEVELS = rule_table(_address_rule, 5)


def _address_level(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``linkage.compare._address_level`` for arrays of row pairs; the postcodes' one-typo
    neighbours are compared only where nothing stronger agrees."""
    street_a, street_b, post_a, post_b = arr.street[a], arr.street[b], arr.postcode[a], arr.postcode[b]
    no_postcode = (post_a == NONE) | (post_b == NONE)
    alike_a = arr.street_alike[a]
    level = apply_rule(
        _ADDRESS_LEVELS,
        (street_a != NONE) & (street_a == street_b),
        no_postcode,
        ~no_postcode & (post_a == post_b),
        (alike_a != NONE) & (alike_a == arr.street_alike[b]),
        (street_a == NONE) | (street_b == NONE),
    )
    open_ = np.flatnonzero(level == 0)
    if len(open_):
        level[open_] = _postcodes_a_typo_apart(arr, a[open_], b[open_])
    return level


def _postcodes_a_typo_apart(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair: do the postcodes share a one-typo neighbour? Looked up by class of postcode in a
    large index (``linkage.value_classes``)."""
    table = _POSTCODE_CLASSES.of(arr)
    return table.levels(a, b) if table is not None else _neighbours_shared(arr, a, b)


def _neighbours_shared(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _shares_token(arr.postcode_nb[a], arr.postcode_nb[b])


def _postcode_classes(arr: EncodingArrays) -> ClassTable | None:
    return class_table(arr.postcode, [arr.postcode_nb], partial(_neighbours_shared, arr))


_POSTCODE_CLASSES = TablesPerArrays(_postcode_classes)


def _shares_token(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pair: do two short token lists share one? Whole columns against whole columns, made
    contiguous first (as ``_members``; a quarter faster than a column of ``x`` against all of
    ``y`` and its reduction over the short axis), into buffers reused for every column."""
    found = np.zeros(len(x), dtype=bool)
    hit, equal = np.empty(len(x), dtype=bool), np.empty(len(x), dtype=bool)
    theirs = np.ascontiguousarray(y.T)
    for column in np.ascontiguousarray(x.T):
        np.equal(column, theirs[0], out=hit)
        for other in theirs[1:]:
            hit |= np.equal(column, other, out=equal)
        hit &= np.not_equal(column, NONE, out=equal)
        found |= hit
    return found


def _identifier_level(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    azr_a, azr_b = arr.azr[a], arr.azr[b]
    missing = (azr_a == NONE) | (azr_b == NONE)
    level = np.where(missing, MISSING, np.where(azr_a == azr_b, 2, 0))
    differ = np.flatnonzero(level == 0)  # only these need the (wide) neighbour comparison
    if len(differ):
        level[differ] = _any_shared(arr.azr_nb[a[differ]], arr.azr_nb[b[differ]]).astype(np.int64)
    return level
