"""Blocking on columns: the keys of ``linkage.blocking`` for every record at once, grouped by sorting.

Same keys, same rule (keys shared by more than ``max_block`` records are dropped), same result as
``linkage.blocking.candidate_pairs``, but without a Python set of tuples: each key becomes one
64-bit hash, (hash, row) pairs are sorted once, and the pairs within each group are generated as
index arrays. A pair comes back once, as (lower row, higher row) — rows are in id order, so that is
(lower id, higher id) as before.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

import numpy as np

from kim_hub.linkage.blocking import DEFAULT_MAX_BLOCK, KIND_MAX_BLOCK
from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.int_sets import sorted_unique

_KINDS = {
    kind: i + 1
    for i, kind in enumerate(
        (
            "skel+year",
            "phonetic-name+year",
            "canon+date",
            "skel+skel",
            "joined+year",
            "azr",
            "jc",
            "date+postcode",
            "street+year",
            "name-session",
            "street+skel",
            "name+day",
            "day+sex+nat",
            "skel+place",
            "postcode+skel",
            "day+sex",
        )
    )
}
PAIR_BATCH = 4_000_000  # raw (not yet de-duplicated) pairs generated at a time: bounds memory
_NO_KIND_LIMIT = np.iinfo(np.int16).max  # a kind without its own limit: only the caller's max_block applies


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def key_hash(kind: str, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One 64-bit hash per (kind, token, token) key."""
    with np.errstate(over="ignore"):
        seed = np.uint64(_KINDS[kind]) * np.uint64(0x9E3779B97F4A7C15)
        return _mix(_mix(first.astype(np.uint64) + seed) + second.astype(np.uint64))


def block_keys(arr: EncodingArrays, kinds: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(key hash, row) of every blocking key of every record, each (key, row) once, sorted.

    ``kinds``: only the keys of these kinds (``benchmarks/blocking_yield.py`` weighs each kind's
    pairs against the true pairs it finds)."""
    n = len(arr)
    rows = np.arange(n, dtype=np.int64)
    year = np.where(arr.d_has, arr.d_year, 0)
    ymd = np.where(arr.d_ymd != NONE, arr.d_ymd, 0)
    found: list[tuple[np.ndarray, np.ndarray]] = []  # per kind: its (key hash, row), sorted, within its limit

    def add(kind: str, first: np.ndarray, second: np.ndarray, mask: np.ndarray, who: np.ndarray) -> None:
        add_parts(kind, [(first, second, mask, who)])

    def add_parts(kind: str, parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """One kind's keys, from one or several parts (its limit counts them all)."""
        if kinds is None or kind in kinds:
            hashed = [(key_hash(kind, first[mask], second[mask]), who[mask]) for first, second, mask, who in parts]
            if hashed:
                h, r = hashed[0] if len(hashed) == 1 else _joined(hashed)
                found.append(_within_kind_limit(h, r, KIND_MAX_BLOCK.get(kind, _NO_KIND_LIMIT)))

    canon = np.concatenate([arr.fam_c, arr.giv_c], axis=2)  # [n, V, 2T]: family and given tokens
    skel = np.concatenate([arr.fam_s, arr.giv_s], axis=2)
    present = canon != NONE
    who = np.broadcast_to(rows[:, None, None], canon.shape)
    year3 = np.broadcast_to(year[:, None, None], canon.shape)
    ymd3 = np.broadcast_to(ymd[:, None, None], canon.shape)
    add("skel+year", skel, year3, present, who)
    add("canon+date", canon, ymd3, present & (ymd3 != 0), who)
    family_sound, given_sound = arr.fam_p[:, :, 0], arr.giv_p[:, :, 0]  # per spelling: the parts' first tokens
    both = (family_sound != NONE) & (given_sound != NONE)
    whole_name = key_hash("phonetic-name+year", np.minimum(family_sound, given_sound), np.maximum(family_sound, given_sound))
    add("phonetic-name+year", whole_name, np.broadcast_to(year[:, None], both.shape), both, who[:, :, 0])
    sound = np.concatenate([arr.fam_p, arr.giv_p], axis=2)
    width = canon.shape[2]

    def name_part_pairs() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        for p in range(width):
            for q in range(p + 1, width):
                sp, sq = skel[:, :, p], skel[:, :, q]
                mask = present[:, :, p] & present[:, :, q] & (sp != sq) & (sound[:, :, p] != sound[:, :, q])
                yield np.minimum(sp, sq), np.maximum(sp, sq), mask, who[:, :, 0]

    add_parts("skel+skel", name_part_pairs())
    add("joined+year", arr.fam_j, np.broadcast_to(year[:, None], arr.fam_j.shape), arr.fam_j != NONE, who[:, :, 0])
    zero = np.zeros(n, dtype=np.int64)
    add("azr", arr.azr, zero, arr.azr != NONE, rows)
    add("jc", arr.jobcenter, zero, arr.jobcenter != NONE, rows)
    add("date+postcode", ymd, arr.postcode, (ymd != 0) & (arr.postcode != NONE), rows)
    add("street+year", arr.street, year, (arr.street != NONE) & (year != 0), rows)
    street3 = np.broadcast_to(arr.street[:, None, None], skel.shape)
    add("street+skel", street3, skel, present & (street3 != NONE), who)
    postcode3 = np.broadcast_to(arr.postcode[:, None, None], skel.shape)
    add("postcode+skel", postcode3, skel, present & (postcode3 != NONE), who)
    place3 = np.broadcast_to(arr.place_s[:, None, None], arr.fam_s.shape)
    add("skel+place", arr.fam_s, place3, (arr.fam_c != NONE) & (place3 != NONE), who[:, :, : arr.fam_s.shape[2]])
    real_day = (ymd != 0) & ~arr.d_placeholder
    sex = np.where(arr.sex != NONE, arr.sex.astype(np.int64) + 1, 0)
    day_sex = key_hash("day+sex+nat", ymd, sex)
    nat_rows = np.broadcast_to(rows[:, None], arr.nat.shape)
    add("day+sex+nat", np.broadcast_to(day_sex[:, None], arr.nat.shape), arr.nat, real_day[:, None] & (arr.nat != NONE), nat_rows)
    stateless = real_day & (arr.nat == NONE).all(axis=1)  # no nationality known: the day and sex alone
    add("day+sex", ymd, sex, stateless, rows)
    if not found:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    return _merged(found)


def _within_kind_limit(h: np.ndarray, r: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """One kind's ``unique_keys(h, r)`` without the keys held by more records than the kind's
    ``limit`` (``blocking.KIND_MAX_BLOCK``); a record holding a key twice counts once."""
    h, r = unique_keys(h, r)
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    small = np.repeat(sizes <= limit, sizes)  # each key's rows are consecutive
    return h[small], r[small]


def _merged(kinds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The kinds' sorted (key, row) runs as one sorted run. A hash holds its kind, so no key is in
    two runs, and a stable sort by key keeps each key's rows in order: merging sorted runs, it
    costs a fraction of sorting everything anew (and each kind's temporaries were gone before the
    next kind's were made)."""
    h = np.concatenate([h for h, _r in kinds])
    r = np.concatenate([r for _h, r in kinds])
    kinds.clear()
    order = np.argsort(h, kind="stable")
    return h[order], r[order]


def candidate_pair_arrays(
    arr: EncodingArrays, focus: np.ndarray | None = None, max_block: int = DEFAULT_MAX_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (a < b) that share a blocking key, as two int64 arrays sorted by (a, b).

    ``focus``: a boolean mask of rows; then only pairs involving at least one focus row.
    """
    return _joined(candidate_pair_pieces(arr, focus, max_block))


def candidate_pair_pieces(
    arr: EncodingArrays,
    focus: np.ndarray | None = None,
    max_block: int = DEFAULT_MAX_BLOCK,
    chunk: int = PAIR_BATCH,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> PairPieces:
    """``candidate_pair_arrays`` in pieces of about ``chunk`` raw pairs, in (a, b) order, so
    that a caller scoring them piece by piece never holds all candidate pairs at once.
    ``keys``: ``block_keys(arr)`` when the caller keeps them from an earlier run."""
    h, r = block_keys(arr) if keys is None else keys
    return PairPieces(h, r, len(arr), max_block, focus, chunk)


def same_day_name_pieces(arr: EncodingArrays) -> PairPieces:
    """Pairs sharing a name token (canonical or joined) and a precise birth date, from blocks of
    any size: every pair that can agree exactly on both names and the date is among them.

    What the prior's calibration counts (``linkage.link.count_agreeing_pairs``), at a million
    records in 0.8 million pairs instead of the 115 million candidate pairs."""
    n = len(arr)
    rows = np.arange(n, dtype=np.int64)
    precise = (arr.d_ymd != NONE) & ~arr.d_placeholder
    canon = np.concatenate([arr.fam_c, arr.giv_c], axis=2)
    joined = np.concatenate([arr.fam_j, arr.giv_j], axis=1)  # "Abdul Rahman" = "Abdulrahman" is "same" too
    hashes, owners = [], []
    for tokens in (canon, joined):
        beside = (slice(None),) + (None,) * (tokens.ndim - 1)  # a record's value next to each of its tokens
        present = (tokens != NONE) & precise[beside]
        hashes.append(key_hash("name+day", tokens[present], np.broadcast_to(arr.d_ymd[beside], tokens.shape)[present]))
        owners.append(np.broadcast_to(rows[beside], tokens.shape)[present])
    h, r = unique_keys(np.concatenate(hashes), np.concatenate(owners))
    return PairPieces(h, r, n, max_block=max(n, 2))


def pairs_sharing(
    h: np.ndarray, r: np.ndarray, n_rows: int, max_block: int, focus: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (a < b) within each group of equal keys of 2 to ``max_block`` members.

    ``h``/``r``: key and row, sorted by (key, row), each (key, row) once (see ``unique_keys``).
    """
    return _joined(PairPieces(h, r, n_rows, max_block, focus))


class PairPieces(Sequence[tuple[np.ndarray, np.ndarray]]):
    """``pairs_sharing`` in pieces by ranges of the first row ``a``, each made when asked for.

    A pair shared through several keys is made once per key; cutting by the pair's first row
    (not by group) keeps every copy in the same piece, so removing duplicates within a piece is
    exact and the pieces concatenate to the sorted, duplicate-free whole. Making a piece reads
    only what is fixed here, so pieces can be made (and scored) in parallel threads.
    """

    def __init__(
        self, h: np.ndarray, r: np.ndarray, n_rows: int, max_block: int, focus: np.ndarray | None = None, chunk: int = PAIR_BATCH
    ) -> None:
        self.r, self.focus, self.n = r, focus, np.int64(max(n_rows, 1))
        self.member = self.later = np.empty(0, np.int64)
        self.bounds: list[tuple[int, int]] = []
        if len(h) == 0:
            return
        starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
        sizes = np.diff(np.r_[starts, len(h)])
        wanted = (sizes >= 2) & (sizes <= max_block)
        if focus is not None:
            wanted &= np.maximum.reduceat(focus[r].astype(np.int8), starts).astype(bool)
        starts, sizes = starts[wanted], sizes[wanted]
        if len(starts) == 0:
            return
        heads = np.cumsum(sizes) - sizes  # where each group begins in the concatenated member list
        member = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(heads, sizes) + np.repeat(starts, sizes)
        later = np.repeat(starts + sizes, sizes) - member - 1  # members after this one in its group
        member, later = member[later > 0], later[later > 0]
        first_row = r[member]  # members are sorted by row within a group: the earlier row is a
        order = np.argsort(first_row, kind="stable")
        self.member, self.later, first_row = member[order], later[order], first_row[order]
        cumulative = np.cumsum(self.later)
        begin = 0
        while begin < len(self.member):
            done = cumulative[begin - 1] if begin else 0
            end = max(int(np.searchsorted(cumulative, done + chunk, side="right")), begin + 1)
            end = int(np.searchsorted(first_row, first_row[end - 1], side="right"))  # a row's pairs stay together
            self.bounds.append((begin, end))
            begin = end

    def __len__(self) -> int:
        return len(self.bounds)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        begin, end = self.bounds[index]
        member, later = self.member[begin:end], self.later[begin:end]
        left = np.repeat(member, later)
        offsets = np.arange(len(left), dtype=np.int64) - np.repeat(np.cumsum(later) - later, later)
        a, b = self.r[left], self.r[left + 1 + offsets]
        if self.focus is not None:
            inside = self.focus[a] | self.focus[b]
            a, b = a[inside], b[inside]
        codes = sorted_unique(a * self.n + b)  # runs in order already: the stable sort merges them
        return codes // self.n, codes % self.n


def _joined(pieces: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    parts = list(pieces)
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate([a for a, _b in parts]), np.concatenate([b for _a, b in parts])


def unique_keys(h: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(key, row) sorted, each once: a record with a key twice is still one member of its block."""
    at = _distinct(h, r)
    return h[at], r[at]


def _distinct(h: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The positions of the (key, row) pairs in sorted order, each pair once."""
    order = np.lexsort((r, h))
    h, r = h[order], r[order]
    keep = np.ones(len(h), dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (r[1:] != r[:-1])
    return order[keep]
