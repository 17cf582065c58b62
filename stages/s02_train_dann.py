"""Stage 2: DANN training of the TA network, one model per ensemble member (seed).

python -m stages.s02_train_dann --run NAME [--epochs 200 --lambda-schedule adaptive --source-form gray ...]
"""
import torch
import torch.nn.functional as F

from stages.core import artifacts, stage
from stages.core.errors import run_stage
from stages.core.losses import dann_lambda, domain_accuracy, domain_loss
from stages.core.models import build_model, reverse_gradient
from stages.core.train import DomainStream, fit


def dann_objective(cfg):
    """CE on source + BCE of the domain classifier through a gradient reversal of weight lambda."""

    def objective(model, batch, progress):
        num_source = len(batch["xs"])
        features = model.features(torch.cat([batch["xs"], batch["xt"]]))
        class_logits = model.classifier(features[:num_source])
        lam = dann_lambda(progress, cfg.lambda_schedule, cfg.lambda_max)
        domain_logits = model.domain(reverse_gradient(features, lam))
        class_loss = F.cross_entropy(class_logits, batch["ys"], label_smoothing=cfg.label_smoothing)
        adversarial = domain_loss(domain_logits, num_source)
        stats = {
            "class_loss": class_loss.detach(),
            "domain_loss": adversarial.detach(),
            "source_acc": (class_logits.argmax(1) == batch["ys"]).float().mean(),
            "domain_acc": domain_accuracy(domain_logits.detach(), num_source),
            "lambda": lam,
        }
        return class_loss + adversarial, stats

    return objective


def main(argv):
    cfg, paths = stage.start(argv, "s02_train_dann")
    stage.save_config(cfg, paths)
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    evaluate = stage.epoch_evaluator(cfg, data)
    results = {}
    with stage.Timer(paths, "s02_train_dann"):
        for member, seed in enumerate(cfg.member_seeds()):
            torch.manual_seed(seed)  # the same seed gives the same initial weights
            model = build_model(data.num_classes, cfg.width).to(device)
            stage_dir = paths.dann_dir(member)
            metrics = fit(stage_dir, f"dann m{member}", cfg, model, dann_objective(cfg), DomainStream(data, cfg),
                          cfg.epochs, cfg.lr, seed, evaluate)
            results[f"dann_m{member}"] = metrics[-1]
    artifacts.update_summary_table(paths, "last_epoch_metrics", results)


if __name__ == "__main__":
    run_stage(main)
