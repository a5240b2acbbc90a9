"""Clustering: average linkage and cannot-link keep households apart."""

from linkage.cluster import Thresholds, cluster

T = Thresholds(auto=5.0, review=0.0)


def test_one_strong_pair_cannot_pull_in_a_household() -> None:
    # 1–2 are one person; 3 is a sibling matching 2 well but 1 badly
    weights = {(1, 2): 20.0, (2, 3): 6.0, (1, 3): -15.0}
    result = cluster([1, 2, 3], [(a, b, w) for (a, b), w in weights.items()], lambda a, b: weights[(a, b)], lambda a, b: False, T)
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3]]
    assert result.review_pairs == []  # the cluster as a whole clearly does not match: no question


def test_an_uncertain_cluster_pair_goes_to_review() -> None:
    weights = {(1, 2): 20.0, (2, 3): 6.0, (1, 3): 2.0}  # average 4: above review, below auto
    result = cluster([1, 2, 3], [(a, b, w) for (a, b), w in weights.items()], lambda a, b: weights[(a, b)], lambda a, b: False, T)
    assert sorted(map(sorted, result.clusters)) == [[1, 2], [3]]
    assert {(a, b) for a, b, _ in result.review_pairs} == {(2, 3), (1, 3)}  # one question: {1, 2} vs {3}


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
