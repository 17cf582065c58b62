import numpy as np
import pandas as pd

from stages.core.selection import mean_entropy, pick, prior_kl, signals


def test_signals_of_simple_cases():
    uniform_rows = np.full((4, 2), 0.5)
    confident = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert abs(mean_entropy(uniform_rows) - np.log(2)) < 1e-9 and mean_entropy(confident) < 1e-9
    assert prior_kl(confident) < 1e-9
    assert abs(prior_kl(np.array([[1.0, 0.0]] * 4)) - np.log(2)) < 1e-9


def test_rule_prefers_confident_balanced_and_agreeing():
    good = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])
    collapsed = np.array([[0.6, 0.4]] * 4)  # unsure, everything in class 0
    table = signals({"a": collapsed, "b": good, "c": good * 0.5 + 0.25})
    assert table["candidate"][pick(table)] == "b"


def test_ties_go_to_the_later_checkpoint():
    table = pd.DataFrame({"candidate": ["early", "final"], "entropy": [0.5, 0.5], "prior_kl": [0.1, 0.1],
                          "agreement": [0.9, 0.9]})
    assert table["candidate"][pick(table)] == "final"


def test_held_out_photo_accuracy_breaks_a_tie_of_the_target_signals():
    same = {"entropy": [0.5, 0.5], "prior_kl": [0.1, 0.1], "agreement": [0.9, 0.9]}
    table = pd.DataFrame({"candidate": ["early", "final"], **same, "source_val_acc": [0.8, 0.6]})
    assert table["candidate"][pick(table)] == "early"


def test_signals_carry_the_held_out_accuracy_of_each_candidate():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    table = signals({"a": probs, "b": probs}, {"a": 0.4, "b": 0.7})
    assert table["source_val_acc"].tolist() == [0.4, 0.7]
    assert "source_val_acc" not in signals({"a": probs})


def test_hit_rate_counts_each_member_against_the_best_and_the_last_checkpoint(tmp_path):
    from bench.selection_hit_rate import decisions

    pd.DataFrame({
        "member": [0, 0, 1, 1], "candidate": ["a/early.pt", "a/final.pt", "b/early.pt", "b/final.pt"],
        "entropy": [0.9, 0.5, 0.4, 0.5], "prior_kl": [0.1, 0.05, 0.01, 0.05], "agreement": [0.5, 0.8, 0.9, 0.8],
        "target_acc": [0.30, 0.45, 0.50, 0.40],
    }).to_csv(tmp_path / "selection.csv", index=False)
    rows = decisions(tmp_path / "selection.csv")
    assert [row["hit"] for row in rows] == [True, True]
    assert [round(row["last_shortfall"], 2) for row in rows] == [0.0, 0.1]
