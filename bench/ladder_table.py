"""Score each ladder run's submission against the labels and write DIR/ladder.csv and DIR/ladder.md."""
import argparse
import platform
from pathlib import Path

import pandas as pd
import torch


def score(submission, labels):
    merged = pd.read_csv(submission).merge(pd.read_csv(labels), on="id", suffixes=("", "_true"), validate="one_to_one")
    return float((merged["label"] == merged["label_true"]).mean())


def machine():
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target-labels", required=True)
    parser.add_argument("--presets", default="simple medium strong boss")
    args = parser.parse_args()
    rows = []
    for preset in args.presets.split():
        submission = args.out / "submissions" / f"ladder_{preset}.csv"
        seconds = float((args.out / f"seconds_{preset}.txt").read_text())
        rows.append({"preset": preset, "target_accuracy": round(score(submission, args.target_labels), 4),
                     "minutes": round(seconds / 60, 1)})
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "ladder.csv", index=False)
    lines = ["| preset | target accuracy | minutes |", "|---|---|---|"]
    lines += [f"| {r['preset']} | {r['target_accuracy']:.4f} | {r['minutes']} |" for r in rows]
    lines += ["", f"Machine: {machine()}; CPU scale of each preset (stages/presets/)."]
    (args.out / "ladder.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
