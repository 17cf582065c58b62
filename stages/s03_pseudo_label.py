"""Stage 3: label the target with the teacher (members averaged, EMA weights where kept) and keep a
class-balanced confident subset; writes pseudo_labels_r<round>.csv (id, label, confidence).

python -m stages.s03_pseudo_label --run NAME [--round 1] [--pseudo-start 0.4 --pseudo-step 0.2 --pseudo-floor 0]
"""
import numpy as np
import pandas as pd

from stages.core import artifacts, stage
from stages.core.data import load_cache
from stages.core.errors import run_stage
from stages.core.pseudo import balanced_selection, round_fraction
from stages.s05_ensemble import ensemble_probs


def main(argv):
    round_, argv = stage.pop_round(argv)
    cfg, paths = stage.start(argv, f"s03_pseudo_label round {round_}")
    device = cfg.resolved_device()
    data = load_cache(paths, cfg.source_form, device, cfg.source_holdout)
    teachers = [artifacts.require(paths.model_after(m, round_ - 1), paths.maker_of(round_ - 1)) for m in range(cfg.members)]
    use_ema = cfg.pseudo_teacher == "ema" and cfg.ema_decay > 0
    with stage.Timer(paths, f"s03_pseudo_label_r{round_}"):
        probs, _ = ensemble_probs(teachers, data.target_x, device, cfg, use_ema)
        fraction = round_fraction(round_, cfg.pseudo_start, cfg.pseudo_step)
        keep = balanced_selection(probs, fraction, cfg.pseudo_floor)
        table = pd.DataFrame({
            "id": data.target_ids[keep],
            "label": probs[keep].argmax(1),
            "confidence": probs[keep].max(1).round(5),
        })
        artifacts.save_text(paths.pseudo_labels(round_), table.to_csv(index=False))
    line = f"s03_pseudo_label: kept {len(keep)} of {len(probs)} doodles ({fraction:.0%} of each class's share)"
    labels = stage.target_labels(cfg, data)
    if labels is not None:  # reporting only
        precision = float((probs[keep].argmax(1) == labels[keep]).mean()) if len(keep) else 0.0
        line += f", pseudo-label accuracy {precision:.4f}"
        artifacts.update_summary_table(paths, "pseudo_label_accuracy", {f"round_{round_}": round(precision, 4)})
    print(line)


if __name__ == "__main__":
    run_stage(main)
