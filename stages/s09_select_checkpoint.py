"""Stage 9: score every checkpoint of each member without target labels and pick one per member
(rule in stages/core/selection.py). Writes selection.csv (signals; target accuracy too when labels
are given, for reporting only) and selection.json, which s05_ensemble uses with --select label_free.

python -m stages.s09_select_checkpoint --run NAME
"""
import pandas as pd

from stages.core import artifacts, stage
from stages.core.errors import UserError, run_stage
from stages.core.predict import accuracy
from stages.core.selection import pick, signals
from stages.core.train import CHECKPOINT_TAGS, load_model
from stages.s05_ensemble import model_probs


def candidates(cfg, paths, member):
    """Every tagged checkpoint of a member, in training order."""
    dirs = paths.stage_dirs(member, cfg.pseudo_rounds)
    found = [artifacts.checkpoint_path(d, tag) for d in dirs for tag in CHECKPOINT_TAGS]
    return list(dict.fromkeys(p for p in found if p.exists()))


def main(argv):
    cfg, paths = stage.start(argv, "s09_select_checkpoint")
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    labels = stage.target_labels(cfg, data)
    tables, picks = [], {}
    with stage.Timer(paths, "s09_select_checkpoint"):
        for member in range(cfg.members):
            found = candidates(cfg, paths, member)
            if not found:
                raise UserError(f"no checkpoints for member {member} in {paths.root}: run s02_train_dann first")
            probs, held_out = {}, ({} if cfg.source_holdout > 0 else None)
            for path in found:  # each checkpoint loaded once
                name = str(path.relative_to(paths.root))
                model, _ = load_model(path, device, cfg.ema_decay > 0)
                if held_out is not None:  # before AdaBN adapts the model to the target
                    held_out[name] = stage.source_val_accuracy(model, data)
                probs[name] = model_probs(model, data.target_x, cfg)
            table = signals(probs, held_out)
            table.insert(0, "member", member)
            if labels is not None:
                table["target_acc"] = [round(accuracy(p, labels), 5) for p in probs.values()]
            picks[member] = table["candidate"][pick(table)]
            tables.append(table)
        artifacts.save_text(paths.root / "selection.csv", pd.concat(tables).round(5).to_csv(index=False))
        artifacts.save_json(paths.root / "selection.json", {"picks": {str(m): c for m, c in picks.items()}})
    for member, chosen in picks.items():
        print(f"s09_select_checkpoint: member {member} -> {chosen}")


if __name__ == "__main__":
    run_stage(main)
