"""Stage 3: label the target with the teacher (members averaged, EMA weights where kept) and keep a
class-balanced confident subset; writes pseudo_labels_r<round>.csv (id, label, confidence).
With --ensemble-teacher false each member labels for itself: pseudo_labels_m<member>_r<round>.csv.

python -m stages.s03_pseudo_label --run NAME [--round 1] [--pseudo-start 0.4 --pseudo-step 0.2 --pseudo-floor 0]
"""
import pandas as pd

from stages.core import artifacts, stage
from stages.core.errors import run_stage
from stages.core.pseudo import balanced_selection, round_fraction
from stages.s05_ensemble import ensemble_probs


def teacher_groups(cfg, paths, round_):
    """[(member or None, checkpoints)]: one group for the ensemble teacher, else one per member."""
    teachers = [artifacts.require(paths.model_after(m, round_ - 1), paths.maker_of(round_ - 1)) for m in range(cfg.members)]
    if cfg.ensemble_teacher:
        return [(None, teachers)]
    return [(m, [path]) for m, path in enumerate(teachers)]


def main(argv):
    round_, argv = stage.pop_round(argv)
    cfg, paths = stage.start(argv, f"s03_pseudo_label round {round_}")
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    use_ema = cfg.pseudo_teacher == "ema" and cfg.ema_decay > 0
    fraction = round_fraction(round_, cfg.pseudo_start, cfg.pseudo_step)
    labels = stage.target_labels(cfg, data)
    for member, teachers in teacher_groups(cfg, paths, round_):
        with stage.Timer(paths, f"s03_pseudo_label_r{round_}"):
            probs, _ = ensemble_probs(teachers, data.target_x, device, cfg, use_ema)
            keep = balanced_selection(probs, fraction, cfg.pseudo_floor)
            table = pd.DataFrame({
                "id": data.target_ids[keep],
                "label": probs[keep].argmax(1),
                "confidence": probs[keep].max(1).round(5),
            })
            artifacts.save_text(paths.pseudo_labels(round_, member), table.to_csv(index=False))
        who = "" if member is None else f" for member {member}"
        line = f"s03_pseudo_label{who}: kept {len(keep)} of {len(probs)} doodles ({fraction:.0%} of each class's share)"
        if labels is not None:  # reporting only
            precision = float((probs[keep].argmax(1) == labels[keep]).mean()) if len(keep) else 0.0
            line += f", pseudo-label accuracy {precision:.4f}"
            key = f"round_{round_}" if member is None else f"m{member}_round_{round_}"
            artifacts.update_summary_table(paths, "pseudo_label_accuracy", {key: round(precision, 4)})
        print(line)


if __name__ == "__main__":
    run_stage(main)
