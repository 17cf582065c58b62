"""Stage 8: offline estimate on a labelled doodle set laid out like shared/data/quickdraw10-eval
(doodles.zip with test_data/0/<id>.bmp, labels.csv with id,label): per-class and balanced accuracy.

python -m stages.s08_eval_doodles --run NAME --eval-doodles path/to/quickdraw10-eval
"""
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from stages.core import artifacts, stage
from stages.core.data import decode_doodles
from stages.core.dataset import open_doodles
from stages.core.errors import UserError, run_stage
from stages.s05_ensemble import ensemble_probs, member_checkpoints


def read_eval_set(folder, image_size):
    folder = Path(folder)
    labels_path, zip_path = folder / "labels.csv", folder / "doodles.zip"
    for path in (labels_path, zip_path):
        if not path.exists():
            raise UserError(f"{path} is missing: --eval-doodles needs a folder with doodles.zip and labels.csv")
    table = pd.read_csv(labels_path)
    if list(table.columns[:2]) != ["id", "label"] or not pd.api.types.is_integer_dtype(table["label"]):
        raise UserError(f"{labels_path} must start with the header id,label and hold whole-number labels")
    layout = open_doodles(zip_path)
    by_id = dict(zip(table["id"], table["label"]))
    missing = [i for i in layout.target_ids if i not in by_id]
    if missing:
        raise UserError(f"{labels_path} has no label for doodle id {missing[0]}")
    images = decode_doodles(layout, image_size)
    layout.close()
    return images, np.asarray([by_id[i] for i in layout.target_ids]), int(table["label"].max()) + 1


def per_class_accuracy(predicted, labels, num_classes):
    return {c: float((predicted[labels == c] == c).mean()) for c in range(num_classes) if (labels == c).any()}


def main(argv):
    cfg, paths = stage.start(argv, "s08_eval_doodles")
    if not cfg.eval_doodles:
        raise UserError("--eval-doodles DIR is required (a folder with doodles.zip and labels.csv)")
    manifest = artifacts.load_json(artifacts.require(paths.manifest, "s01_preprocess"))
    images, labels, set_classes = read_eval_set(cfg.eval_doodles, cfg.image_size)
    if set_classes != manifest["num_classes"]:
        raise UserError(f"{cfg.eval_doodles} has {set_classes} classes but run {cfg.run} was trained on "
                        f"{manifest['num_classes']}: evaluate a model trained on the same classes")
    device = cfg.resolved_device()
    x = torch.from_numpy(images).unsqueeze(1).to(device)
    unbalanced = dataclasses.replace(cfg, balance=False)  # an evaluation set need not be balanced
    probs, _ = ensemble_probs(member_checkpoints(cfg, paths), x, device, unbalanced, cfg.ema_decay > 0)
    per_class = per_class_accuracy(probs.argmax(1), labels, set_classes)
    balanced = float(np.mean(list(per_class.values())))
    for c, value in per_class.items():
        print(f"class {c}: {value:.4f} ({int((labels == c).sum())} doodles)")
    print(f"s08_eval_doodles: accuracy {float((probs.argmax(1) == labels).mean()):.4f}, balanced accuracy {balanced:.4f}")
    artifacts.update_summary(paths, eval_doodles={"set": cfg.eval_doodles, "balanced_accuracy": round(balanced, 4),
                                                  "per_class": {str(c): round(v, 4) for c, v in per_class.items()}})


if __name__ == "__main__":
    run_stage(main)
