"""Label-free checkpoint choice: signals computed on the unlabelled target only.

Rule (documented in README.md): rank every candidate on these signals, each rank 1 = best:
  - mean prediction entropy (lower is better: a confident model),
  - KL divergence of the mean prediction from the uniform prior (lower is better: the target is balanced),
  - agreement of its predicted classes with the average of all candidates (higher is better),
  - accuracy on held-out photos, only when the run keeps some out (--source-holdout; higher is better).
The candidate with the lowest mean rank wins; ties go to the later checkpoint.
"""
import numpy as np
import pandas as pd


def mean_entropy(probs):
    return float(-(probs * np.log(probs + 1e-12)).sum(1).mean())


def prior_kl(probs):
    mean = probs.mean(0)
    return float((mean * np.log(mean * len(mean) + 1e-12)).sum())


def signals(candidate_probs, source_val_acc=None):
    """candidate_probs: {name: (N, K) target probs}, in training order; source_val_acc: {name: accuracy on
    the held-out photos} or None. Returns one row per candidate."""
    consensus = np.mean(list(candidate_probs.values()), axis=0).argmax(1)
    rows = [{"candidate": name, "entropy": mean_entropy(p), "prior_kl": prior_kl(p),
             "agreement": float((p.argmax(1) == consensus).mean())} for name, p in candidate_probs.items()]
    if source_val_acc is not None:
        for row in rows:
            row["source_val_acc"] = source_val_acc[row["candidate"]]
    return pd.DataFrame(rows)


def pick(table):
    """Index of the winning row under the rule above."""
    columns = [
        table["entropy"].rank(method="min"),
        table["prior_kl"].rank(method="min"),
        table["agreement"].rank(method="min", ascending=False),
    ]
    if "source_val_acc" in table:
        columns.append(table["source_val_acc"].rank(method="min", ascending=False))
    ranks = pd.concat(columns, axis=1).mean(axis=1)
    best = ranks.min()
    return int(np.flatnonzero(ranks.to_numpy() == best)[-1])
