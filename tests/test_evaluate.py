from kim_hub.linkage.evaluate import pairwise_score


def test_pairwise_scores() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    perfect = pairwise_score(truth, {"a": "x", "b": "x", "c": "x", "d": "y"})
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    split = pairwise_score(truth, {"a": "x", "b": "x", "c": "z", "d": "y"})
    assert split.true_pairs == 3 and split.correct_pairs == 1 and split.precision == 1.0
    assert abs(split.recall - 1 / 3) < 1e-9
    lumped = pairwise_score(truth, {"a": "x", "b": "x", "c": "x", "d": "x"})
    assert lumped.predicted_pairs == 6 and lumped.precision == 0.5
    missing = pairwise_score(truth, {})
    assert missing.recall == 0.0
