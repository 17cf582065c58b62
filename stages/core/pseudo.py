"""Class-balanced pseudo-labels: the target is balanced, so each predicted class keeps the same number."""
import numpy as np


def round_fraction(round_, start, step):
    """Share of each class's expected count kept in a round: grows by step per round, at most 1."""
    return min(1.0, start + (round_ - 1) * step)


def balanced_selection(probs, fraction, floor=0.0):
    """Indices of the most confident predictions, at most fraction * N / K per predicted class,
    each with confidence >= floor; returned sorted."""
    n, k = probs.shape
    per_class = int(round(fraction * n / k))
    predicted, confidence = probs.argmax(1), probs.max(1)
    keep = []
    for c in range(k):
        candidates = np.flatnonzero((predicted == c) & (confidence >= floor))
        ranked = candidates[np.argsort(-confidence[candidates], kind="stable")]
        keep.append(ranked[:per_class])
    return np.sort(np.concatenate(keep)).astype(np.int64)


def label_vector(num_target, indices, labels):
    """Full-length label vector for training: the pseudo-label where selected, -1 elsewhere."""
    vector = np.full(num_target, -1, dtype=np.int64)
    vector[indices] = labels
    return vector


def balance_probs(probs, iterations=30):
    """Rescale class columns (Sinkhorn-Knopp) so that the predicted class shares become uniform.

    The target is balanced by construction, so a model that favours some classes is corrected
    toward the known prior; each row stays a probability distribution.
    """
    balanced = probs.astype(np.float64) + 1e-12
    n, k = balanced.shape
    for _ in range(iterations):
        balanced *= (n / k) / balanced.sum(0, keepdims=True)
        balanced /= balanced.sum(1, keepdims=True)
    return balanced.astype(np.float32)
