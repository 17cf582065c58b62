"""Stage 6: turn the averaged probabilities into submissions/<run>.csv, checked before it is reported.

python -m stages.s06_write_submission --run NAME [--overwrite] [--target-labels CSV]
"""
import numpy as np

from stages.core import artifacts, stage
from stages.core.data import read_target_labels
from stages.core.errors import UserError, run_stage
from stages.core.submission import histogram_line, submission_text, validate_submission


def main(argv):
    cfg, paths = stage.start(argv, "s06_write_submission")
    manifest = artifacts.load_json(artifacts.require(paths.manifest, "s01_preprocess"))
    target_ids = np.load(artifacts.require(paths.cache_array("target_ids"), "s01_preprocess"))
    probs = np.load(artifacts.require(paths.ensemble_probs, "s05_ensemble"))
    num_classes = manifest["num_classes"]
    if probs.shape != (len(target_ids), num_classes):
        raise UserError(f"{paths.ensemble_probs} has shape {probs.shape}, expected {(len(target_ids), num_classes)}: run s05_ensemble again")
    labels = probs.argmax(1)
    text = submission_text(target_ids, labels)
    validate_submission(text, target_ids, num_classes)
    out = paths.submission
    if out.exists() and out.read_text() != text and not cfg.overwrite:
        raise UserError(f"{out} already exists with other predictions: pass --overwrite or use another --run")
    artifacts.save_text(out, text)
    validate_submission(out.read_text(), target_ids, num_classes, origin=str(out))
    print(f"s06_write_submission: predicted classes {histogram_line(labels, num_classes)}")
    entries = {"submission": str(out), "predicted_class_counts": np.bincount(labels, minlength=num_classes).tolist()}
    truth = read_target_labels(cfg.target_labels, target_ids, num_classes)
    if truth is not None:
        entries["target_accuracy"] = round(float((labels == truth).mean()), 4)
    artifacts.update_summary(paths, **entries)
    print(f"submission: {out}")
    if truth is not None:
        print(f"target accuracy: {entries['target_accuracy']:.4f}")


if __name__ == "__main__":
    run_stage(main)
