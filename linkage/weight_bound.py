"""An upper bound on a pair's Bayes factor before its names are compared.

Comparing names is most of the cost of scoring a candidate pair (token sets in both orientations,
Bloom filters), yet on a large index under 1 % of the blocked pairs reach the review threshold.
Every other field costs a few cheap array passes (``compare_arrays.cheap_levels``). So a batch is
compared on those first, and the names are credited the best weight they could possibly earn:
the top level plus the largest frequency adjustment a name token of *both* records could bring
(the adjustment always belongs to a token the two records share), or the best lower level; the
AZR number, where the two differ, is credited the one-typo level. Each field takes the larger of
its plain and same-family weight. Only pairs whose bound reaches the floor are compared in full,
and since the bound is the same arithmetic on the same tables, no pair that could reach the
floor is dropped (tests/test_weight_bound.py checks bound ≥ Bayes factor on every pair).

Common names are where the candidate pairs pile up, and their frequency adjustment is negative:
the bound is tightest exactly where it saves the most.

A name's top levels need a token the two records share: "same" and "one name shared" a canonical
or joined token, "transliteration variant" a skeleton. Which parts are compared with which
depends on the orientation (a swapped pair grades a's family name against b's given names), so
each record carries one 64-bit signature per kind of token and name field (``_signature``: a bit
per token, of all its spellings), and a field is credited its top levels only where a part pair
some orientation compares can share such a token: for the family name a's family with b's
family or, swapped, with b's given names, and a's given names with b's family; for the given
names likewise. Two tokens may set the same bit, which only credits too much, never too little.
A pair that shares its family name but no given name (siblings, namesakes: most candidate pairs
of a large index) is thus credited what different given names can earn. At a million generated
records this left 3.5 of 5.6 million blocked pairs hopeful, every pair reaching review among them
(benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np

from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS
from kim_hub.linkage.model import MatchModel
from kim_hub.runtime.parallel import map_in_threads

_AZR = FIELDS.index("azr")
_SLACK = 1e-9  # float sums in another order: never drop a pair on a rounding difference
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / the golden ratio: a multiplicative hash
# per name field the level a shared skeleton gives where no canonical or joined token is shared (compare_arrays)
_SKELETON_LEVEL = {index: LEVELS[FIELDS[index]].index("transliteration variant") for index in (FAMILY, GIVEN)}


class BayesFactorBound:
    """Per pair, an upper bound on the log2 Bayes factor from ``cheap_levels`` alone."""

    def __init__(self, arr: EncodingArrays, model: MatchModel) -> None:
        tables = model.level_weights
        # per field and level (last entry: MISSING = 0) the larger of the plain and same-family weight
        self.best = [np.maximum(np.asarray(tables[False][i]), np.asarray(tables[True][i])) for i in range(len(FIELDS))]
        self.model = model
        tokens = _name_tokens(arr)
        self.name_best = dict(
            zip((FAMILY, GIVEN), map_in_threads(lambda i: self._best_name_weight((FAMILY, GIVEN)[i], tokens), 2))
        )
        # per field the best weight without a shared token: with a shared skeleton, and with none
        self.name_without = {
            index: (self._best_below(index, level), self._best_below(index, level - 1))
            for index, level in _SKELETON_LEVEL.items()
        }
        # [n, 4] per record: family tokens, given tokens, family skeletons, given skeletons (one
        # row, so that a pair's four come in one cache line each side)
        self.signatures = np.stack(
            [_signature(arr.fam_c, arr.fam_j), _signature(arr.giv_c, arr.giv_j), _signature(arr.fam_s), _signature(arr.giv_s)],
            axis=1,
        )

    def _best_name_weight(self, index: int, tokens: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(per record: the largest frequency adjustment of its tokens, top weight, best other level).

        Only the tokens present are looked up (four in ten of a record's slots at a million)."""
        present = tokens != NONE
        adjustment = np.full(tokens.shape, -np.inf)
        adjustment[present] = self.model.frequency_adjustments(index, tokens[present])  # 0 for tokens the table lacks
        adjustment = adjustment.max(axis=1)
        top = len(LEVELS[FIELDS[index]]) - 1
        return adjustment, float(self.best[index][top]), self._best_below(index, top - 1)

    def _best_below(self, index: int, level: int) -> float:
        """The best weight of the levels up to ``level`` or of a missing name (0)."""
        return float(max(self.best[index][: level + 1].max(), 0.0))

    def upper(self, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray) -> np.ndarray:
        """The bound for the pairs (rows a[k], b[k]) with ``levels`` from ``cheap_levels``."""
        return self._narrowed(a, b, *self._blind(a, b, levels, date_token))

    def hopeful(self, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """Positions of the pairs whose bound (``upper``) reaches their ``floor``. The bound that
        credits both names their best is made first, and the signatures are asked only for the
        pairs that reach the floor with it: a quarter of the blocked pairs at a million records
        (asked for all, they cost about as much as they spared)."""
        blind, family, given = self._blind(a, b, levels, date_token)
        rows = np.flatnonzero(blind >= floor)
        reaching: np.ndarray = rows[self._narrowed(a[rows], b[rows], blind[rows], family[rows], given[rows]) >= floor[rows]]
        return reaching

    def _blind(
        self, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The bound with both names credited the best they could earn sharing a token, and the
        family and given names' credits in it."""
        total = np.zeros(len(a))
        credits = []
        for index in range(len(FIELDS)):
            if index in (FAMILY, GIVEN):
                adjustment, top, other = self.name_best[index]
                credits.append(np.maximum(top + np.minimum(adjustment[a], adjustment[b]), other))
                total += credits[-1]
                continue
            column = levels[:, index].astype(np.intp)
            weight = self.best[index][column]
            if index == DATE:  # the adjustment looked up only where the dates agree
                at_top = np.flatnonzero(column == len(LEVELS[FIELDS[DATE]]) - 1)
                weight[at_top] += self.model.frequency_adjustments(DATE, date_token[at_top])
            elif index == _AZR:
                weight = np.where(column == 0, self.best[_AZR][:2].max(), weight)  # maybe one typo apart
            total += weight
        return total + _SLACK, credits[0], credits[1]

    def _narrowed(self, a: np.ndarray, b: np.ndarray, blind: np.ndarray, family: np.ndarray, given: np.ndarray) -> np.ndarray:
        """``_blind``'s bound with the names' credit replaced by the signatures' (``_names``)."""
        bound: np.ndarray = blind - (family + given) + self._names(a, b, family, given)
        return bound

    def _names(self, a: np.ndarray, b: np.ndarray, family: np.ndarray, given: np.ndarray) -> np.ndarray:
        """The names' credit by the signatures: a field's best (``family``, ``given``: what
        ``_blind`` credits) where it may share a token, else its best without one."""
        # row gathers by ``np.take``: several times faster than indexing [n, k] with an index array
        may_share = _may_share(np.take(self.signatures, a, axis=0), np.take(self.signatures, b, axis=0))
        credit = np.zeros(len(a))
        for column, (index, best) in enumerate(((FAMILY, family), (GIVEN, given))):
            with_skeleton, without = self.name_without[index]
            credit += np.where(may_share[column], best, np.where(may_share[2 + column], with_skeleton, without))
        return credit


def _may_share(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Per pair of signature rows (``BayesFactorBound.signatures``): may a part pair that some
    orientation grades on the family (0) or the given names (1) share a token, or a skeleton
    (2, 3)? Family: x's family with y's family, x's family with y's given names, x's given names
    with y's family; given names: the same with the roles turned. Column by column: numpy's
    passes over whole columns cost less than over [p, 4] blocks with their columns reordered."""
    both = x & y
    tokens_crossed = ((x[:, 0] & y[:, 1]) | (x[:, 1] & y[:, 0])) != 0
    skeletons_crossed = ((x[:, 2] & y[:, 3]) | (x[:, 3] & y[:, 2])) != 0
    return [
        tokens_crossed | (both[:, 0] != 0),
        tokens_crossed | (both[:, 1] != 0),
        skeletons_crossed | (both[:, 2] != 0),
        skeletons_crossed | (both[:, 3] != 0),
    ]


def _signature(*columns: np.ndarray) -> np.ndarray:
    """uint64 [n]: per record one bit per token of ``columns`` ([n, …] each, every spelling),
    the bit chosen by the token's top six bits after a multiplicative hash (tokens are keyed,
    so any six bits would do; the hash only spreads tokens that are small integers in tests)."""
    n = len(columns[0])
    signature = np.zeros(n, dtype=np.uint64)
    for column in columns:
        flat = column.reshape(n, -1)
        for j in range(flat.shape[1]):
            tokens = flat[:, j]
            bits = np.left_shift(np.uint64(1), (tokens.astype(np.uint64) * _SPREAD) >> np.uint64(58))
            signature |= np.where(tokens != NONE, bits, np.uint64(0))
    return signature


def _name_tokens(arr: EncodingArrays) -> np.ndarray:
    """[n, k] every token a name comparison can report for a record (canonical and joined, family
    and given: a swapped comparison reports a family token found among the given names)."""
    n = len(arr)
    return np.concatenate(
        [arr.fam_c.reshape(n, -1), arr.fam_j.reshape(n, -1), arr.giv_c.reshape(n, -1), arr.giv_j.reshape(n, -1)], axis=1
    )
