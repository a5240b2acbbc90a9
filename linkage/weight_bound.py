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
"""

from __future__ import annotations

import numpy as np

from kim_hub.linkage.columnar import NONE, EncodingArrays
from kim_hub.linkage.compare import DATE, FAMILY, FIELDS, GIVEN, LEVELS
from kim_hub.linkage.model import MatchModel

_AZR = FIELDS.index("azr")
_SLACK = 1e-9  # float sums in another order: never drop a pair on a rounding difference


class BayesFactorBound:
    """Per pair, an upper bound on the log2 Bayes factor from ``cheap_levels`` alone."""

    def __init__(self, arr: EncodingArrays, model: MatchModel) -> None:
        tables = model.level_weights
        # per field and level (last entry: MISSING = 0) the larger of the plain and same-family weight
        self.best = [np.maximum(np.asarray(tables[False][i]), np.asarray(tables[True][i])) for i in range(len(FIELDS))]
        self.model = model
        tokens = _name_tokens(arr)
        self.name_best = {index: self._best_name_weight(index, tokens) for index in (FAMILY, GIVEN)}

    def _best_name_weight(self, index: int, tokens: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(per record: the largest frequency adjustment of its tokens, top weight, best other level)."""
        adjustment = self.model.frequency_adjustments(index, tokens)  # 0 for tokens the table lacks
        adjustment = np.where(tokens == NONE, -np.inf, adjustment).max(axis=1)
        top = len(LEVELS[FIELDS[index]]) - 1
        return adjustment, float(self.best[index][top]), float(max(self.best[index][:top].max(), 0.0))

    def upper(self, a: np.ndarray, b: np.ndarray, levels: np.ndarray, date_token: np.ndarray) -> np.ndarray:
        """The bound for the pairs (rows a[k], b[k]) with ``levels`` from ``cheap_levels``."""
        total = np.zeros(len(a))
        for index in range(len(FIELDS)):
            if index in (FAMILY, GIVEN):
                adjustment, top, other = self.name_best[index]
                total += np.maximum(top + np.minimum(adjustment[a], adjustment[b]), other)
                continue
            column = levels[:, index].astype(np.intp)
            weight = self.best[index][column]
            if index == DATE:  # the adjustment looked up only where the dates agree
                at_top = np.flatnonzero(column == len(LEVELS[FIELDS[DATE]]) - 1)
                weight[at_top] += self.model.frequency_adjustments(DATE, date_token[at_top])
            elif index == _AZR:
                weight = np.where(column == 0, self.best[_AZR][:2].max(), weight)  # maybe one typo apart
            total += weight
        return total + _SLACK


def _name_tokens(arr: EncodingArrays) -> np.ndarray:
    """[n, k] every token a name comparison can report for a record (canonical and joined, family
    and given: a swapped comparison reports a family token found among the given names)."""
    n = len(arr)
    return np.concatenate(
        [arr.fam_c.reshape(n, -1), arr.fam_j.reshape(n, -1), arr.giv_c.reshape(n, -1), arr.giv_j.reshape(n, -1)], axis=1
    )
