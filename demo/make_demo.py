"""Rebuild demo/real_or_drawing.zip from the shared yardstick (a balanced subset, original ids kept).

python demo/make_demo.py ../shared/data/cifar10-quickdraw-dev --per-class 120
"""
import argparse
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="folder with real_or_drawing.zip and target_labels.csv")
    parser.add_argument("--per-class", type=int, default=120)
    args = parser.parse_args()
    out = Path(__file__).resolve().parent
    labels = pd.read_csv(args.source / "target_labels.csv")
    kept = labels.sort_values("id").groupby("label", group_keys=False).head(args.per_class).sort_values("id")
    kept_ids = set(kept["id"].tolist())
    with zipfile.ZipFile(args.source / "real_or_drawing.zip") as full, \
            zipfile.ZipFile(out / "real_or_drawing.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as demo:
        counts = {}
        for name in sorted(full.namelist()):
            parts = PurePosixPath(name).parts
            if name.endswith("/") or len(parts) != 4:
                continue
            if parts[1] == "train_data":
                counts[parts[2]] = counts.get(parts[2], 0) + 1
                if counts[parts[2]] > args.per_class:
                    continue
            elif int(PurePosixPath(name).stem) not in kept_ids:
                continue
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 24, 0, 0, 0))  # fixed time: reproducible bytes
            demo.writestr(info, full.read(name), zipfile.ZIP_DEFLATED, compresslevel=9)
    kept.to_csv(out / "target_labels.csv", index=False)
    print(f"wrote {out / 'real_or_drawing.zip'} and target_labels.csv ({len(kept)} doodles)")


if __name__ == "__main__":
    main()
