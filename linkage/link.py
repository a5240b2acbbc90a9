"""The whole linkage step on a set of encoded records, as one pure function.

``hub_db.master_index`` runs the same steps incrementally against the stored index; this
function runs them from scratch, for the benchmarks and for tests that need a complete result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linkage.blocking import candidate_pairs
from linkage.cluster import Clustering, Thresholds, cluster
from linkage.compare import Comparison, compare, identifiers_conflict, individual_evidence
from linkage.encode import RecordEncoding
from linkage.estimate import MatchModel, calibrate_prior, estimate


def learn_model(encodings: Mapping[int, RecordEncoding], candidates: Sequence[Comparison] | None = None) -> MatchModel:
    """Estimate m/u by EM and calibrate the prior on the blocked candidate pairs."""
    model = estimate(encodings)
    if candidates is None:
        candidates = [compare(encodings[a], encodings[b]) for a, b in candidate_pairs(encodings)]
    calibrate_prior(model, candidates)
    return model


def link_all(
    encodings: Mapping[int, RecordEncoding],
    thresholds: Thresholds = Thresholds(),
    model: MatchModel | None = None,
) -> tuple[Clustering, MatchModel]:
    """Block, compare, score and cluster every record; learns the model when none is given."""
    comparisons = {(a, b): compare(encodings[a], encodings[b]) for a, b in candidate_pairs(encodings)}
    model = (model or learn_model(encodings, list(comparisons.values()))).applied_to(list(encodings.values()))
    result = cluster(
        encodings,
        [(a, b, model.score(c)) for (a, b), c in comparisons.items()],
        pair_weight=lambda a, b: model.score(compare(encodings[a], encodings[b])),
        cannot_link=lambda a, b: identifiers_conflict(encodings[a], encodings[b]),
        thresholds=thresholds,
        may_link_automatically=lambda a, b: individual_evidence(comparisons[(a, b)]),
    )
    return result, model
