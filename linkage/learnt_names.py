"""Given-name equivalences learnt from the installation's own confirmed pairs.

``mappings/call_names.csv`` holds the call names of general knowledge (Sasha for Oleksandr). A
city's population goes by more than any list holds (Mysha for Mykhailo, Jo for Yusuf), and until
the hub knows them every such pair looks like twins: the same family name and birth date, given
names that differ outright (``linkage.household``). The index learns them from pairs whose
sameness is confirmed by something other than the given name:

* a reviewer decided the pair is one person;
* both records carry the same AZR number *together with* the basic personal data: the family
  names and the precise birth dates agree (shared/DOMAIN.md: the number never alone).

A pair of given-name tokens is learnt when confirmed pairs of at least ``MIN_PERSONS`` persons
show it and nothing speaks against it: no reviewer decided a pair showing it to be two persons,
and no two records of the same family name and birth date with *different* AZR numbers (twins,
who may be named by custom: Hasan and Hüseyin) show it. One person's alias never becomes a rule.

Only pairs of records with one given name each, whose names share neither a token nor a
skeleton, teach anything: what they differ in is the whole given name. What is learnt is a set
of pairs of keyed tokens, never a name. Applied to the index (``LearntNames.applied``), a record
holding a name of a learnt class also holds the class's own token, as a listed call
name holds its formal name's (``encode._formal_codes``): the two records then share a name ("one
name shared"), in blocking, comparison, the model and the review's evidence alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.compare import FIELDS
from kim_hub.linkage.compare_arrays import compare_pairs
from kim_hub.linkage.int_sets import is_member

MIN_PERSONS = 2  # confirmed persons a name pair needs before it is a rule for the whole index

NamePair = tuple[int, int]  # two keyed given-name tokens, the smaller first
_TOP_TOKEN = (1 << 63) - 1
_AZR = FIELDS.index("azr")
Evidence = tuple[list[tuple[NamePair, Hashable]], list[NamePair]]  # (confirmed with a person key, contradicted)


@dataclass(frozen=True)
class LearntNames:
    """The learnt pairs of given-name tokens (keyed tokens of the records' current key)."""

    pairs: frozenset[NamePair] = frozenset()

    @property
    def fingerprint(self) -> str:
        """Names this set in the caches derived from an index it was applied to."""
        return hashlib.sha256(self.to_bytes()).hexdigest()[:16]

    def to_bytes(self) -> bytes:
        return json.dumps(sorted(self.pairs)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LearntNames:
        return cls(frozenset((int(a), int(b)) for a, b in json.loads(data)))

    def tokens(self) -> set[int]:
        return {token for pair in self.pairs for token in pair}

    def representatives(self) -> dict[int, int]:
        """Every token of a learnt class → the class's smallest token (classes join transitively:
        Tom ~ Thomas and Tommy ~ Thomas put all three in one class)."""
        parent: dict[int, int] = {}

        def root(token: int) -> int:
            while parent.setdefault(token, token) != token:
                parent[token] = parent[parent[token]]
                token = parent[token]
            return token

        for a, b in self.pairs:
            ra, rb = root(a), root(b)
            parent[max(ra, rb)] = min(ra, rb)
        return {token: root(token) for token in list(parent)}

    def applied(self, arr: EncodingArrays) -> EncodingArrays:
        """The index with each given-name spelling that holds a name of a learnt class also
        holding the class's token (``class_token``; with the name's own skeleton and sound: those
        still say how it is spelled); the token columns widen when a spelling has no free slot.
        ``arr`` is left as it was."""
        classes = {token: class_token(rep) for token, rep in self.representatives().items()}
        if not classes:
            return arr
        keys = np.array(sorted(classes), dtype=np.int64)
        values = np.array([classes[k] for k in keys.tolist()], dtype=np.int64)
        c = arr.giv_c
        at = np.minimum(np.searchsorted(keys, c), len(keys) - 1)
        mapped = np.where((keys[at] == c) & (c != NONE), values[at], NONE)
        rows, spellings = np.nonzero((mapped != NONE).any(axis=2))
        held, classed = c[rows, spellings], mapped[rows, spellings]  # [k, T] each
        new = _new_class_tokens(held, classed)
        added = new.sum(axis=1)
        if not added.any():
            return arr
        free = (held != NONE).sum(axis=1)  # tokens fill a spelling's slots from the left
        width = max(c.shape[2], int((free + added).max()))
        giv_c, giv_s, giv_p = (_widened(column, width) for column in (arr.giv_c, arr.giv_s, arr.giv_p))
        # per spelling, its new class tokens in ascending order, each after the ones before it,
        # with the skeleton and sound of the name it stands for (the first slot that holds it)
        order = np.lexsort((classed, ~new), axis=1)  # the new ones first, by token
        for rank in range(held.shape[1]):
            take = np.flatnonzero(rank < added)
            if len(take) == 0:
                break
            slot = order[take, rank]
            i, v, target = rows[take], spellings[take], free[take] + rank
            giv_c[i, v, target] = classed[take, slot]
            giv_s[i, v, target] = arr.giv_s[i, v, slot]
            giv_p[i, v, target] = arr.giv_p[i, v, slot]
        return dataclasses.replace(arr, giv_c=giv_c, giv_s=giv_s, giv_p=giv_p)


def class_token(representative: int) -> int:
    """The token a learnt class adds to its names: at the top of the 63-bit token range, so that
    where two records share a name of their own *and* the class, the smaller token — the one whose
    frequency weighs the agreement (``compare``: ``min(shared)``) — is the name's own: Bogdan and
    Bogdan agree with Bogdan's frequency, Bogdan and Bohdan with the class's."""
    return _TOP_TOKEN - (representative >> 23)  # 40 bits of the representative: classes stay apart


def _new_class_tokens(held: np.ndarray, classed: np.ndarray) -> np.ndarray:
    """Per spelling (rows) and slot: does the slot's class token (``classed``, NONE for a name of
    no class) join the spelling? Not when the spelling holds it already, nor when an earlier slot
    brings the same class (two names of one class add its token once)."""
    new: np.ndarray = classed != NONE
    for slot in range(classed.shape[1]):
        token = classed[:, slot : slot + 1]
        new[:, slot] &= ~(held == token).any(axis=1) & ~(classed[:, :slot] == token).any(axis=1)
    return new


def _widened(column: np.ndarray, width: int) -> np.ndarray:
    """A copy of a [n, V, T] token column with ``width`` slots per spelling."""
    out = np.full((*column.shape[:2], width), NONE, dtype=column.dtype)
    out[:, :, : column.shape[2]] = column
    return out


def single_given_name(arr: EncodingArrays, rows: np.ndarray) -> np.ndarray:
    """Per row: the token of its one given name, NONE when it has none or several. A name part's
    tokens are recognised by their sound: the tokens a listed call name carries for its formal
    names keep the call name's sound (``encode._formal_codes``), so Memo (which also holds
    Mehmet's token) is one name, and Mohammed Ali is two."""
    sounds = _flat(arr.giv_p[rows])
    first = arr.giv_p[rows, 0, 0]
    one_sound = ((sounds == first[:, None]) | (sounds == NONE)).all(axis=1)
    token = arr.giv_c[rows, 0, 0]
    return np.where(one_sound & (first != NONE) & (token != NONE), token, NONE)


def differing_names(arr: EncodingArrays, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs of rows (a[k], b[k]): the name pair they differ in wholly, and which pairs do
    (each record holds one given name, and the two share no token, listed formal names included,
    and no skeleton)."""
    ta, tb = single_given_name(arr, a), single_given_name(arr, b)
    shared = _shares(_flat(arr.giv_c[a]), _flat(arr.giv_c[b])) | _shares(_flat(arr.giv_s[a]), _flat(arr.giv_s[b]))
    differ = (ta != NONE) & (tb != NONE) & ~shared
    pairs = np.stack([np.minimum(ta, tb), np.maximum(ta, tb)], axis=1)
    return pairs, differ


def _shares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row: do the two token rows hold a token (not padding) in common?"""
    shared: np.ndarray = ((x[:, :, None] == y[:, None, :]) & (x[:, :, None] != NONE)).any(axis=(1, 2))
    return shared


def _flat(column: np.ndarray) -> np.ndarray:
    """[k, V, T] → [k, V·T]: every token of a row, whichever spelling (also for k = 0)."""
    return column.reshape(len(column), column.shape[1] * column.shape[2])


def learn(
    confirmed: Iterable[tuple[NamePair, Hashable]], contradicted: Iterable[NamePair], min_persons: int = MIN_PERSONS
) -> LearntNames:
    """The name pairs confirmed for at least ``min_persons`` distinct persons (``confirmed``:
    pairs with a key of the person that confirmed them) and never contradicted."""
    persons: dict[NamePair, set[Hashable]] = defaultdict(set)
    for pair, person in confirmed:
        persons[pair].add(person)
    against = set(contradicted)
    return LearntNames(frozenset(p for p, who in persons.items() if len(who) >= min_persons and p not in against))


def identifier_evidence(arr: EncodingArrays) -> Evidence:
    """Name pairs the AZR numbers speak to: confirmed where two records share the number, the
    family name and the precise birth date; contradicted where two records of one family name and
    birth date hold numbers more than a typo apart (two persons: twins; a number mistyped at one
    body contradicts nothing). The person key of a confirmation is ("azr", its number's token)."""
    confirmed: list[tuple[NamePair, Hashable]] = []
    contradicted: list[NamePair] = []
    rows = np.flatnonzero((arr.azr != NONE) & (arr.d_ymd != NONE) & ~arr.d_placeholder)
    if len(rows) < 2:
        return confirmed, contradicted
    family = arr.fam_c[rows, 0, 0]  # the first spelling's first family token
    rows, family = rows[family != NONE], family[family != NONE]
    for a, b in _pairs_within(np.stack([family, arr.d_ymd[rows]], axis=1), rows):
        pairs, differ = differing_names(arr, a, b)
        same_number = arr.azr[a] == arr.azr[b]
        apart = compare_pairs(arr, a, b).levels[:, _AZR] == 0  # "differ": not even one typo apart
        for (low, high), number in zip(pairs[differ & same_number].tolist(), arr.azr[a][differ & same_number].tolist()):
            confirmed.append(((low, high), ("azr", number)))
        contradicted.extend((low, high) for low, high in pairs[differ & apart].tolist())
    return confirmed, contradicted


def _pairs_within(keys: np.ndarray, rows: np.ndarray, largest: int = 12) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Every pair of ``rows`` with equal key rows, in batches (arrays a, b). Groups above
    ``largest`` are left out: a family name and birth date that many records share is a placeholder
    or a data error, not a household."""
    order = np.lexsort(keys.T[::-1])
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    sizes = np.diff(np.r_[starts, len(rows)])
    for size in range(2, largest + 1):
        group_starts = starts[sizes == size]
        if len(group_starts) == 0:
            continue
        for i in range(size):
            for j in range(i + 1, size):
                yield rows[group_starts + i], rows[group_starts + j]


def records_holding(arr: EncodingArrays, tokens: set[int]) -> np.ndarray:
    """Ids of the records whose given names hold any of ``tokens``."""
    if not tokens:
        return np.empty(0, dtype=np.int64)
    held = is_member(arr.giv_c, np.fromiter(tokens, dtype=np.int64, count=len(tokens))).any(axis=(1, 2))
    ids: np.ndarray = arr.ids[held]
    return ids
