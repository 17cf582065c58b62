"""Stage 4: fine-tune each member from its previous model with CE on source, CE on the round's
pseudo-labels, MCC on every target batch and (optionally) the adversarial term.

python -m stages.s04_finetune_mcc --run NAME [--round 1] [--mcc-epochs 15 --mcc-mu 1 --mcc-temperature 2.5]
"""
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from stages.core import artifacts, stage
from stages.core.errors import UserError, run_stage
from stages.core.losses import domain_accuracy, domain_loss, mcc_loss, pseudo_label_loss
from stages.core.models import reverse_gradient
from stages.core.pseudo import label_vector
from stages.core.train import DomainStream, fit, load_model


def mcc_objective(cfg):
    def objective(model, batch, progress):
        num_source = len(batch["xs"])
        features = model.features(torch.cat([batch["xs"], batch["xt"]]))
        logits = model.classifier(features)
        source_logits, target_logits = logits[:num_source], logits[num_source:]
        class_loss = F.cross_entropy(source_logits, batch["ys"], label_smoothing=cfg.label_smoothing)
        pseudo = pseudo_label_loss(target_logits, batch["pt"], cfg.label_smoothing)
        confusion = mcc_loss(target_logits, cfg.mcc_temperature)
        loss = class_loss + cfg.pseudo_weight * pseudo + cfg.mcc_mu * confusion
        stats = {"class_loss": class_loss.detach(), "pseudo_loss": pseudo.detach(), "mcc_loss": confusion.detach(),
                 "source_acc": (source_logits.argmax(1) == batch["ys"]).float().mean()}
        if cfg.mcc_adversarial:
            domain_logits = model.domain(reverse_gradient(features, cfg.lambda_max))
            adversarial = domain_loss(domain_logits, num_source)
            loss = loss + adversarial
            stats.update(domain_loss=adversarial.detach(), domain_acc=domain_accuracy(domain_logits.detach(), num_source))
        return loss, stats

    return objective


def read_pseudo_labels(path, target_ids):
    table = pd.read_csv(artifacts.require(path, "s03_pseudo_label"))
    position = {image_id: i for i, image_id in enumerate(target_ids.tolist())}
    unknown = [i for i in table["id"].tolist() if i not in position]
    if unknown:
        raise UserError(f"{path} names test id {unknown[0]} that this run does not have: run s03_pseudo_label again")
    return label_vector(len(target_ids), [position[i] for i in table["id"]], table["label"].to_numpy())


def main(argv):
    round_, argv = stage.pop_round(argv)
    cfg, paths = stage.start(argv, f"s04_finetune_mcc round {round_}")
    if cfg.mcc_epochs < 1:
        raise UserError("--mcc-epochs is 0 for this run: set --mcc-epochs N to fine-tune")
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    evaluate = stage.epoch_evaluator(cfg, data)
    results = {}
    with stage.Timer(paths, f"s04_finetune_mcc_r{round_}"):
        for member, seed in enumerate(cfg.member_seeds()):
            start = artifacts.require(paths.model_after(member, round_ - 1), paths.maker_of(round_ - 1))
            model, _ = load_model(start, device, use_ema=cfg.ema_decay > 0)  # the student starts from the teacher
            owner = None if cfg.ensemble_teacher else member
            pseudo = torch.from_numpy(read_pseudo_labels(paths.pseudo_labels(round_, owner), data.target_ids)).to(device)
            stage_dir = paths.mcc_dir(member, round_)
            metrics = fit(stage_dir, f"mcc m{member} r{round_}", cfg, model, mcc_objective(cfg),
                          DomainStream(data, cfg, pseudo), cfg.mcc_epochs, cfg.mcc_lr, seed + 1000 * round_, evaluate)
            results[f"mcc_m{member}_r{round_}"] = metrics[-1]
    artifacts.update_summary_table(paths, "last_epoch_metrics", results)


if __name__ == "__main__":
    run_stage(main)
