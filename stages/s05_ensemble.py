"""Stage 5: predict the target with every member (no random augmentation, flip averaging) and average.

python -m stages.s05_ensemble --run NAME [--tta-flip false]
"""
import numpy as np

from stages.core import artifacts, stage
from stages.core.errors import run_stage
from stages.core.predict import accuracy, adapt_batchnorm, predict_probs
from stages.core.pseudo import balance_probs
from stages.core.train import load_model


def member_checkpoints(cfg, paths):
    """Each member's last model, or (--select label_free) the checkpoint s09 picked for it."""
    if cfg.select == "label_free":
        picks = artifacts.load_json(artifacts.require(paths.root / "selection.json", "s09_select_checkpoint"))["picks"]
        return [artifacts.require(paths.root / picks[str(m)], "s09_select_checkpoint") for m in range(cfg.members)]
    rounds = cfg.pseudo_rounds if cfg.mcc_epochs > 0 else 0
    return [artifacts.require(paths.model_after(m, rounds), paths.maker_of(rounds)) for m in range(cfg.members)]


def model_probs(model, target_x, cfg):
    """Target probabilities of a loaded model (AdaBN changes its BatchNorm statistics in place)."""
    if cfg.adabn:
        adapt_batchnorm(model, target_x)
    return predict_probs(model, target_x, tta_flip=cfg.tta_flip)


def member_probs(path, target_x, device, cfg, use_ema):
    return model_probs(load_model(path, device, use_ema)[0], target_x, cfg)


def ensemble_probs(checkpoints, target_x, device, cfg, use_ema):
    """Average the softmax of every checkpoint, then (cfg.balance) rebalance the class shares.
    Returns (probs, list of member probs)."""
    members = [member_probs(path, target_x, device, cfg, use_ema) for path in checkpoints]
    mean = np.mean(members, axis=0)
    return (balance_probs(mean) if cfg.balance else mean), members


def main(argv):
    cfg, paths = stage.start(argv, "s05_ensemble")
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    checkpoints = member_checkpoints(cfg, paths)
    with stage.Timer(paths, "s05_ensemble"):
        mean, members = ensemble_probs(checkpoints, data.target_x, device, cfg, cfg.ema_decay > 0)
        info = {"members": [str(p.relative_to(paths.root)) for p in checkpoints], "ema": cfg.ema_decay > 0,
                "tta_flip": cfg.tta_flip, "adabn": cfg.adabn, "balance": cfg.balance}
        labels = stage.target_labels(cfg, data)
        if labels is not None:  # reporting only
            info["member_target_accuracy"] = [round(accuracy(p, labels), 5) for p in members]
            info["ensemble_target_accuracy"] = round(accuracy(mean, labels), 5)
        artifacts.save_array(paths.ensemble_probs, mean)
        artifacts.save_json(paths.ensemble_info, info)
    print(f"s05_ensemble: averaged {len(members)} member(s) -> {paths.ensemble_probs}")
    if labels is not None:
        print(f"s05_ensemble: member target accuracy {info['member_target_accuracy']}, ensemble {info['ensemble_target_accuracy']}")


if __name__ == "__main__":
    run_stage(main)
