"""Label-free checkpoint choice: signals computed on the unlabelled target only.

Rule (documented in README.md): rank every candidate on three signals, each rank 1 = best:
  - mean prediction entropy (lower is better: a confident model),
  - KL divergence of the mean prediction from the uniform prior (lower is better: the target is balanced),
  - agreement of its predicted classes with the average of all candidates (higher is better).
The candidate with the lowest mean rank wins; ties go to the later checkpoint.
"""
import numpy as np
import pandas as pd


def mean_entropy(probs):
    return float(-(probs * np.log(probs + 1e-12)).sum(1).mean())


def prior_kl(probs):
    mean = probs.mean(0)
    return float((mean * np.log(mean * len(mean) + 1e-12)).sum())


def signals(candidate_probs):
    """candidate_probs: {name: (N, K) probs}, in training order. Returns one row per candidate."""
    consensus = np.mean(list(candidate_probs.values()), axis=0).argmax(1)
    rows = [{"candidate": name, "entropy": mean_entropy(p), "prior_kl": prior_kl(p),
             "agreement": float((p.argmax(1) == consensus).mean())} for name, p in candidate_probs.items()]
    return pd.DataFrame(rows)


def pick(table):
    """Index of the winning row under the rule above."""
    ranks = pd.concat([
        table["entropy"].rank(method="min"),
        table["prior_kl"].rank(method="min"),
        table["agreement"].rank(method="min", ascending=False),
    ], axis=1).mean(axis=1)
    best = ranks.min()
    return int(np.flatnonzero(ranks.to_numpy() == best)[-1])
