"""What every stage does first: resolve its config from the run directory and the command line."""
import time

from . import artifacts, config
from .data import load_cache, read_target_labels
from .errors import UserError
from .predict import accuracy, predict_probs
from .train import set_threads


def pop_round(argv):
    """Take the stage-only option --round N (default 1) out of argv."""
    argv = list(argv)
    if "--round" not in argv:
        return 1, argv
    i = argv.index("--round")
    value = argv[i + 1] if i + 1 < len(argv) else ""
    if not value.isdigit() or int(value) < 1:
        raise UserError(f"--round expects a round number 1, 2, ..., got {value!r}")
    del argv[i : i + 2]
    return int(value), argv


def start(argv, stage, first=False):
    """Return (cfg, paths). The first stage may start a run; later ones need its config.json."""
    overrides = config.parse_overrides(argv)
    paths = artifacts.RunPaths(overrides.get("run", ""))
    saved = artifacts.load_json(paths.config) if overrides.get("run") and paths.config.exists() else None
    if saved is None and not first:
        config.resolve(argv)  # reports a missing --run or a bad setting before the missing file
        artifacts.require(paths.config, "s01_preprocess")
    cfg = config.resolve(argv, saved)
    set_threads(cfg)
    print(f"{stage}: run {cfg.run}, preset {cfg.preset}, scale {'cpu' if config.cpu_scale(cfg) else 'kaggle'}, device {cfg.resolved_device()}")
    return cfg, artifacts.RunPaths(cfg.run)


def save_config(cfg, paths):
    artifacts.save_json(paths.config, cfg.to_dict())


def load_data(cfg, paths, device):
    """The run's cached arrays as the training stages see them (source form, photos held out)."""
    return load_cache(paths, cfg.source_form, device, cfg.source_holdout)


def target_labels(cfg, data):
    return read_target_labels(cfg.target_labels, data.target_ids, data.num_classes)


def source_val_accuracy(model, data):
    """Accuracy on the held-out photos (--source-holdout): a signal that needs no target label."""
    probs = predict_probs(model, data.source_val_x, tta_flip=False)
    return accuracy(probs, data.source_val_y.cpu().numpy())


def epoch_evaluator(cfg, data):
    """Per-epoch rows for metrics.csv: held-out photo accuracy (with --source-holdout) and target
    accuracy (only when labels were given: reporting, never selection). None when neither applies."""
    labels = target_labels(cfg, data)
    held_out = len(data.source_val_y) > 0
    if labels is None and not held_out:
        return None

    def scores(model, suffix):
        row = {}
        if held_out:
            row[f"source_val_acc{suffix}"] = round(source_val_accuracy(model, data), 5)
        if labels is not None:
            row[f"target_acc{suffix}"] = round(accuracy(predict_probs(model, data.target_x, tta_flip=False), labels), 5)
        return row

    def evaluate(model, ema):
        row = scores(model, "")
        if ema is not None:
            saved = {k: v.clone() for k, v in model.state_dict().items()}
            model.load_state_dict(ema.state)
            row.update(scores(model, "_ema"))
            model.load_state_dict(saved)
        return row

    return evaluate


class Timer:
    """Records a stage's wall time into summary.json."""

    def __init__(self, paths, stage):
        self.paths, self.stage = paths, stage

    def __enter__(self):
        self.began = time.monotonic()
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:
            # Summed over invocations, so a resumed stage reports all the time it took.
            summary = artifacts.load_json(self.paths.summary) if self.paths.summary.exists() else {}
            seconds = summary.get("stage_seconds", {}).get(self.stage, 0.0) + time.monotonic() - self.began
            artifacts.update_summary_table(self.paths, "stage_seconds", {self.stage: round(seconds, 1)})
