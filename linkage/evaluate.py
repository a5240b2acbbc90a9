"""Pairwise precision, recall and F1 of a clustering against known truth.

Used by the demo (generated data knows its truth), the end-to-end tests and the benchmarks.
Pairs are counted without materialising them: for every (true person, predicted person) cell
the number of shared record pairs is n·(n−1)/2.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

Record = TypeVar("Record", bound=Hashable)  # what identifies a record: an id, a (source, record id) pair


@dataclass(frozen=True)
class PairwiseScore:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(truth: Mapping[Record, Hashable], predicted: Mapping[Record, Hashable]) -> PairwiseScore:
    """Compare two labelings of the same records (records missing from ``predicted`` are singletons)."""
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    predicted_labels = {record: predicted.get(record, ("unlinked", record)) for record in truth}
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted_labels.values()).values())
    cells = Counter((truth[record], predicted_labels[record]) for record in truth)
    correct = sum(_pairs(n) for n in cells.values())
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScore(precision, recall, f1, true_pairs, predicted_pairs, correct)
