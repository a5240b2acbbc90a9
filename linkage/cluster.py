"""Clustering scored pairs into persons, without chaining siblings together.

Plain connected components over "probably the same" pairs chain a family into one person: the
sister matches the brother on family name, address and 01.01. birth year, the brother matches his
own duplicate, and so on. Here clusters grow greedily from the strongest pair down, and two
clusters merge only when

* no pair between them is a cannot-link (two AZR numbers not even one digit apart, or a
  coordinator's "different" decision), and
* the *average* match weight over all record pairs between them clears the threshold, so one
  strong pair cannot pull in a whole household.

A refused merge becomes a review item only when the clusters' average clears the review
threshold: a sibling who matches one record of her brother's cluster but not the others is not
a question for a coordinator, and neither is a pair with two different AZR numbers.

A record still on its own then joins a cluster below the automatic threshold (down to review)
when the two are each other's clearly best candidate (``_mutual_best_joins``). A pair's weight
assumes it competes with nobody, but in a big index a name with no or a placeholder birth date
is shared by many: at a million generated records, 14 % of the 138,396 pairs between the two
thresholds were one person, and 92 % of the 3,612 among them that were each record's best pair
by at least a bit (the effect on F1: benchmarks/README.md).

Pairs a coordinator marked "same" are merged first and are never undone by the score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DEFAULT_AUTO_PROBABILITY = 0.7
DEFAULT_REVIEW_PROBABILITY = 0.3
CLEAR_MARGIN = 1.0  # bits: a clearly best candidate is at least twice as likely as the next


def log_odds(probability: float) -> float:
    return math.log2(probability / (1 - probability))


@dataclass(frozen=True)
class Thresholds:
    """Match weights (log2 posterior odds) that separate automatic links, review and no link.

    The defaults (0.7 and 0.3 as probabilities) were chosen on generated populations, where
    the truth is known, and checked on the shared sample; see the README's linkage section.
    """

    auto: float = log_odds(DEFAULT_AUTO_PROBABILITY)
    review: float = log_odds(DEFAULT_REVIEW_PROBABILITY)

    @classmethod
    def from_probabilities(cls, auto: float, review: float) -> Thresholds:
        return cls(auto=log_odds(auto), review=log_odds(review))


@dataclass
class Clustering:
    """Clusters of record ids, the weight each record joined with, and pairs left for review."""

    clusters: list[list[int]]
    join_weight: dict[int, float]
    review_pairs: list[tuple[int, int, float]] = field(default_factory=list)


def cluster(
    record_ids: Iterable[int],
    scored_pairs: Iterable[tuple[int, int, float]],
    pair_weight: Callable[[int, int], float],
    cannot_link: Callable[[int, int], bool],
    thresholds: Thresholds = Thresholds(),
    must_link: Iterable[tuple[int, int]] = (),
    may_link_automatically: Callable[[int, int], bool] = lambda a, b: True,
) -> Clustering:
    """Greedy average-linkage clustering with cannot-link constraints.

    ``pair_weight`` scores pairs that blocking did not produce (needed for the cluster average);
    ``cannot_link`` says when two records can never be one person; a pair for which
    ``may_link_automatically`` is false can join two clusters only through review.
    """
    members: dict[int, list[int]] = {r: [r] for r in record_ids}
    owner: dict[int, int] = {r: r for r in members}
    for a, b in must_link:
        if a in owner and b in owner and owner[a] != owner[b]:
            _merge(members, owner, owner[a], owner[b])

    ordered = sorted(((w, a, b) for a, b, w in scored_pairs), reverse=True)
    weight = _memoised_weight(pair_weight, ordered)
    join_weight: dict[int, float] = {}
    review: list[tuple[int, int, float]] = []
    for w, a, b in ordered:
        if w < thresholds.review:
            break
        ra, rb = owner[a], owner[b]
        if ra == rb:
            continue
        average = _cluster_average(members[ra], members[rb], weight, cannot_link)
        if average is None:
            continue  # a cannot-link: not a question for review either
        if w >= thresholds.auto and average >= thresholds.auto and may_link_automatically(a, b):
            for r in (a, b):
                join_weight[r] = max(join_weight.get(r, w), w)
            _merge(members, owner, ra, rb)
        elif average >= thresholds.review:
            review.append((a, b, min(w, average)))
    for record, cluster_root, average in _mutual_best_joins(
        ordered, owner, members, weight, cannot_link, thresholds, may_link_automatically
    ):
        join_weight[record] = average
        if len(members[cluster_root]) == 1:  # two records on their own: both joined by the evidence,
            # whichever is met first (a record without a join weight was joined by a decision)
            join_weight[members[cluster_root][0]] = average
        _merge(members, owner, owner[record], cluster_root)
    still_open = [(a, b, w) for a, b, w in review if owner[a] != owner[b]]
    return Clustering(clusters=list(members.values()), join_weight=join_weight, review_pairs=still_open)


def _memoised_weight(
    pair_weight: Callable[[int, int], float], scored: Iterable[tuple[float, int, int]]
) -> Callable[[int, int], float]:
    """The weight of any pair: the scored ones as given, the others from ``pair_weight`` once."""
    known: dict[tuple[int, int], float] = {}
    for w, a, b in scored:
        known[(a, b) if a < b else (b, a)] = w

    def weight(a: int, b: int) -> float:
        key = (a, b) if a < b else (b, a)
        if key not in known:
            known[key] = pair_weight(*key)
        return known[key]

    return weight


def _merge(members: dict[int, list[int]], owner: dict[int, int], a_root: int, b_root: int) -> None:
    """One cluster of two: the smaller one's records move to the larger one's root."""
    if len(members[a_root]) < len(members[b_root]):
        a_root, b_root = b_root, a_root
    for r in members[b_root]:
        owner[r] = a_root
    members[a_root].extend(members.pop(b_root))


def _mutual_best_joins(
    ordered: list[tuple[float, int, int]],
    owner: dict[int, int],
    members: dict[int, list[int]],
    weight: Callable[[int, int], float],
    cannot_link: Callable[[int, int], bool],
    thresholds: Thresholds,
    may_link_automatically: Callable[[int, int], bool],
) -> list[tuple[int, int, float]]:
    """(record, root of the cluster it joins, average weight) for each record on its own whose
    best cluster, by average weight, is at least the review threshold and CLEAR_MARGIN above
    its next, and which is that cluster's best by the same margin; the strongest pair between
    them must have the evidence an automatic link needs. Clusters of several records are not
    joined with each other this way: a wrong merge of two would join every pair between them.

    Candidates are the clusters a pair reaching review connects (the rest average below it)."""
    strongest: dict[tuple[int, int], tuple[int, int]] = {}
    for w, a, b in ordered:
        if w < thresholds.review:
            break
        ra, rb = owner[a], owner[b]
        if ra != rb:
            strongest.setdefault((min(ra, rb), max(ra, rb)), (a, b))
    best: dict[int, tuple[float, int]] = {}  # cluster root -> (average, the other cluster's root)
    runner_up: dict[int, float] = {}
    for x, y in strongest:
        average = _cluster_average(members[x], members[y], weight, cannot_link)
        if average is None:
            continue  # never one person: not a competitor either
        for me, other in ((x, y), (y, x)):
            held = best.get(me)
            if held is None or average > held[0]:
                if held is not None:
                    runner_up[me] = max(runner_up.get(me, -math.inf), held[0])
                best[me] = (average, other)
            else:
                runner_up[me] = max(runner_up.get(me, -math.inf), average)
    joins = []
    for x, (average, y) in best.items():
        if x > y or best.get(y, (0.0, None))[1] != x or average < thresholds.review:
            continue
        clear = min(average - runner_up.get(x, -math.inf), average - runner_up.get(y, -math.inf)) >= CLEAR_MARGIN
        single, other = (x, y) if len(members[x]) == 1 else (y, x)
        if clear and len(members[single]) == 1 and may_link_automatically(*strongest[(x, y)]):
            joins.append((members[single][0], other, average))
    return joins


def _cluster_average(
    left: list[int],
    right: list[int],
    weight: Callable[[int, int], float],
    cannot_link: Callable[[int, int], bool],
) -> float | None:
    """Mean weight over all pairs between two clusters; None when any pair cannot link."""
    total = 0.0
    for a in left:
        for b in right:
            if cannot_link(a, b):
                return None
            total += weight(a, b)
    return total / (len(left) * len(right))
