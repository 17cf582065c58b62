"""How often the label-free rule picks the best checkpoint, from runs scored by s09 with labels.

    python3 -m stages.s09_select_checkpoint --run RUN --target-labels labels.csv   # for each run
    python3 -m bench.selection_hit_rate --runs DIR/checkpoints/RUN [...] --out selection_hit_rate.md

Each member of each run is one decision: the rule's pick against the best candidate by target
accuracy, and against simply taking the last checkpoint. Writes a markdown table and prints it.
"""
import argparse
from pathlib import Path

import pandas as pd

from stages.core.selection import pick


def decisions(selection_csv):
    """One row per member: candidates, the rule's and the last checkpoint's shortfall from the best."""
    table = pd.read_csv(selection_csv)
    if "target_acc" not in table:
        raise SystemExit(f"{selection_csv} has no target_acc column: run s09_select_checkpoint with --target-labels")
    rows = []
    for member, group in table.groupby("member", sort=True):
        group = group.reset_index(drop=True)
        best = group["target_acc"].max()
        chosen = group["target_acc"][pick(group)]
        rows.append({
            "run": Path(selection_csv).parent.name, "member": member, "candidates": len(group),
            "signals": "with held-out photos" if "source_val_acc" in group else "target only",
            "hit": chosen == best, "rule_shortfall": best - chosen,
            "last_shortfall": best - group["target_acc"].iloc[-1],
        })
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="run folders holding selection.csv")
    parser.add_argument("--out", type=Path, default=Path("selection_hit_rate.md"))
    args = parser.parse_args()
    rows = pd.DataFrame([row for run in args.runs for row in decisions(run / "selection.csv")])
    lines = ["| run | member | candidates | signals | rule hit | rule shortfall (points) | last shortfall (points) |",
             "|---|---|---|---|---|---|---|"]
    for row in rows.itertuples():
        lines.append(f"| {row.run} | {row.member} | {row.candidates} | {row.signals} | {'yes' if row.hit else 'no'} | "
                     f"{100 * row.rule_shortfall:.2f} | {100 * row.last_shortfall:.2f} |")
    for signals, group in rows.groupby("signals"):
        lines.append(f"\n{signals}: the rule picked the best checkpoint in {int(group['hit'].sum())} of {len(group)} "
                     f"decisions; mean shortfall {100 * group['rule_shortfall'].mean():.2f} points for the rule, "
                     f"{100 * group['last_shortfall'].mean():.2f} for the last checkpoint.")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
