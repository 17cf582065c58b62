import numpy as np

from stages.core.pseudo import balanced_selection, label_vector, round_fraction


def probs_from(predicted, confidence, k):
    probs = np.full((len(predicted), k), 0.0)
    for i, (c, p) in enumerate(zip(predicted, confidence)):
        probs[i] = (1 - p) / (k - 1)
        probs[i, c] = p
    return probs


def test_balanced_rule_keeps_the_most_confident_per_class():
    # 6 samples, 2 classes: class 0 is over-predicted (5 of 6), yet each class keeps at most 1.5 -> 2 (fraction 0.5).
    predicted = [0, 0, 0, 0, 0, 1]
    confidence = [0.9, 0.6, 0.95, 0.7, 0.8, 0.55]
    keep = balanced_selection(probs_from(predicted, confidence, 2), fraction=0.5)
    assert keep.tolist() == [0, 2, 5]  # the two most confident 0s, and the only 1


def test_floor_drops_unsure_predictions():
    predicted = [0, 0, 1, 1]
    confidence = [0.9, 0.6, 0.95, 0.52]
    keep = balanced_selection(probs_from(predicted, confidence, 2), fraction=1.0, floor=0.7)
    assert keep.tolist() == [0, 2]


def test_fraction_grows_over_rounds_and_is_capped():
    assert [round_fraction(r, 0.4, 0.2) for r in (1, 2, 3, 4, 5)] == [0.4, 0.6000000000000001, 0.8, 1.0, 1.0]


def test_label_vector_marks_the_rest_unlabelled():
    assert label_vector(5, [1, 3], [2, 0]).tolist() == [-1, 2, -1, 0, -1]
