"""Clustering: average linkage and cannot-link keep households apart."""

from kim_hub.linkage.cluster import Thresholds, cluster

T = Thresholds(auto=5.0, review=0.0)


def test_one_strong_pair_cannot_pull_in_a_household() -> None:
    # 1–2 are one person; 3 is a sibling matching 2 well but 1 badly
    weights = {(1, 2): 20.0, (2, 3): 6.0, (1, 3): -15.0}
    result = cluster([1, 2, 3], [(a, b, w) for (a, b), w in weights.items()], lambda a, b: weights[(a, b)], lambda a, b: False, T)
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3]]
    assert result.review_pairs == []  # the cluster as a whole clearly does not match: no question


def test_an_uncertain_cluster_pair_goes_to_review() -> None:
    # average 4 between {1, 2} and {3}: above review, below auto; 4 is as good a candidate for 3
    weights = {(1, 2): 20.0, (2, 3): 6.0, (1, 3): 2.0, (3, 4): 3.5}
    result = _cluster(weights)
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3], [4]]
    assert {(a, b) for a, b, _ in result.review_pairs} == {(2, 3), (1, 3), (3, 4)}  # {1, 2} vs {3}, {3} vs {4}


def _cluster(weights: dict[tuple[int, int], float], may_link=lambda a, b: True, cannot_link=lambda a, b: False):  # noqa: ANN001, ANN202
    records = sorted({r for pair in weights for r in pair})
    return cluster(
        records,
        [(a, b, w) for (a, b), w in weights.items()],
        lambda a, b: weights.get((a, b), -20.0),
        cannot_link,
        T,
        may_link_automatically=may_link,
    )


# {1, 2} is one person; 3 is on its own and matches it only in between (average 3)
BETWEEN = {(1, 2): 20.0, (1, 3): 2.0, (2, 3): 4.0}


def test_a_lone_record_joins_its_clearly_best_person_below_the_automatic_threshold() -> None:
    result = _cluster({**BETWEEN, (3, 4): 1.5})  # 4 is a candidate for 3, but a weaker one by 1.5 bits
    assert sorted(map(sorted, result.clusters)) == [[1, 2, 3], [4]]
    assert result.join_weight[3] == 3.0  # the average it joined with
    assert {(a, b) for a, b, _ in result.review_pairs} == {(3, 4)}


def test_a_lone_record_with_two_near_equal_candidates_joins_neither() -> None:
    result = _cluster({**BETWEEN, (3, 4): 2.5})  # 4 within a bit of the person's average 3
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3], [4]]


def test_a_person_takes_its_clearly_best_candidate_not_a_weaker_one() -> None:
    result = _cluster({**BETWEEN, (1, 5): 4.0, (2, 5): 4.0})  # 5 averages 4 against the person, 3 only 3
    assert sorted(map(sorted, result.clusters)) == [[1, 2, 5], [3]]
    close = _cluster({**BETWEEN, (1, 5): 3.5, (2, 5): 3.5})  # 5 only half a bit ahead: neither
    assert sorted(map(sorted, close.clusters)) == [[1, 2], [3], [5]]


def test_two_lone_records_that_are_each_others_only_candidate_join() -> None:
    result = _cluster({(1, 2): 2.0})
    assert [sorted(c) for c in result.clusters] == [[1, 2]]
    # both joined by the evidence, whichever is met first: a link without a join weight would
    # read as a coordinator's decision ("manual")
    assert result.join_weight == {1: 2.0, 2: 2.0}


def test_clusters_of_several_records_are_not_joined_below_the_threshold() -> None:
    result = _cluster({(1, 2): 20.0, (3, 4): 20.0, (1, 3): 3.0, (1, 4): 3.0, (2, 3): 3.0, (2, 4): 3.0})
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3, 4]]


def test_no_join_without_the_evidence_an_automatic_link_needs_or_against_a_cannot_link() -> None:
    without_evidence = _cluster(BETWEEN, may_link=lambda a, b: (a, b) == (1, 2))
    assert sorted(map(sorted, without_evidence.clusters)) == [[1, 2], [3]]
    forbidden = _cluster(BETWEEN, cannot_link=lambda a, b: {a, b} == {1, 3})
    assert sorted(map(sorted, forbidden.clusters)) == [[1, 2], [3]]


def test_cannot_link_wins_over_a_high_score() -> None:
    weights = {(1, 2): 25.0}
    result = cluster([1, 2], [(1, 2, 25.0)], lambda a, b: weights[(a, b)], lambda a, b: True, T)
    assert sorted(map(sorted, result.clusters)) == [[1], [2]]
    assert result.review_pairs == []


def test_must_link_merges_regardless_of_score() -> None:
    result = cluster([1, 2], [], lambda a, b: -30.0, lambda a, b: False, T, must_link=[(1, 2)])
    assert [sorted(c) for c in result.clusters] == [[1, 2]]


def test_transitive_matches_form_one_person() -> None:
    weights = {(1, 2): 20.0, (2, 3): 18.0, (1, 3): 9.0}
    result = cluster([1, 2, 3], [(a, b, w) for (a, b), w in weights.items()], lambda a, b: weights[(a, b)], lambda a, b: False, T)
    assert [sorted(c) for c in result.clusters] == [[1, 2, 3]]
    assert result.join_weight[1] == 20.0
