"""The one training loop. Each stage passes its objective; the loop owns resume, checkpoints and metrics."""
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
import torch
from tqdm import tqdm

from . import artifacts
from .errors import UserError
from .data import augment, index_batches, to_float
from .models import EMA, build_model

CHECKPOINT_TAGS = ("early", "mid", "final")


def tag_epochs(epochs):
    """Epochs at which the early / mid / final checkpoints are kept (for reports and t-SNE)."""
    return {"early": max(1, round(epochs * 0.1)), "mid": max(1, epochs // 2), "final": epochs}


def make_generator(seed, device):
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def set_threads(cfg):
    import os

    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)


class DomainStream:
    """Seeded mini-batches of source and target drawn from in-memory tensors, augmented batched.

    One epoch = one pass over the source photos; target batches come from fresh permutations.
    pseudo (optional): a tensor of target labels, -1 where a target image has none.
    """

    def __init__(self, data, cfg, pseudo=None):
        self.data, self.cfg, self.pseudo = data, cfg, pseudo
        self.batch_size = min(cfg.batch_size, len(data.source_y))
        self.steps = max(1, len(data.source_y) // self.batch_size)

    def _view(self, x_uint8, generator):
        c = self.cfg
        return augment(to_float(x_uint8), generator, c.aug_flip, c.aug_rotate, c.aug_translate, c.aug_scale)

    def epoch(self, generator):
        device = self.data.source_x.device
        source_idx = index_batches(len(self.data.source_y), self.steps, self.batch_size, generator, device)
        target_idx = index_batches(len(self.data.target_x), self.steps, self.batch_size, generator, device)
        for s_idx, t_idx in zip(source_idx, target_idx):
            batch = {
                "xs": self._view(self.data.source_x[s_idx], generator),
                "ys": self.data.source_y[s_idx],
                "xt": self._view(self.data.target_x[t_idx], generator),
                "t_idx": t_idx,
            }
            if self.pseudo is not None:
                batch["pt"] = self.pseudo[t_idx]
            yield batch


@dataclass
class Precision:
    """Mixed precision on CUDA (bf16 where supported, else fp16 with a scaler); plain fp32 on CPU."""

    device: torch.device
    enabled: bool

    def __post_init__(self):
        cuda = self.device.type == "cuda" and self.enabled
        self.dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else None
        self.scaler = torch.amp.GradScaler("cuda", enabled=cuda and self.dtype == torch.float16)

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.dtype)


def train_step(model, optimizer, precision, objective, batch, progress, ema=None):
    """One optimisation step of objective on batch; returns the objective's stats."""
    with precision.autocast():
        loss, stats = objective(model, batch, progress)
    optimizer.zero_grad(set_to_none=True)
    precision.scaler.scale(loss).backward()
    precision.scaler.step(optimizer)
    precision.scaler.update()
    if ema is not None:
        ema.update(model)
    return stats


def _checkpoint(model, optimizer, ema, generator, epoch, metrics, cfg, num_classes, stage):
    return {
        "stage": stage,
        "epoch": epoch,
        "config": cfg.to_dict(),
        "num_classes": num_classes,
        "model": model.state_dict(),
        "ema": ema.state if ema is not None else None,
        "optimizer": optimizer.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
        "metrics": metrics,
    }


# Settings that change what a training stage computes: a checkpoint made with others cannot be resumed.
RECIPE_KEYS = (
    "seed", "members", "source_holdout", "source_form", "width", "epochs", "batch_size", "lr", "weight_decay", "lambda_schedule",
    "lambda_max", "label_smoothing", "ema_decay", "aug_flip", "aug_rotate", "aug_translate", "aug_scale",
    "pseudo_rounds", "pseudo_teacher", "ensemble_teacher", "pseudo_start", "pseudo_step", "pseudo_floor", "mcc_epochs", "mcc_lr",
    "mcc_mu", "mcc_temperature", "mcc_adversarial", "pseudo_weight",
)


def check_same_recipe(saved, cfg, path):
    current = cfg.to_dict()
    for key in RECIPE_KEYS:
        if key in saved and saved[key] != current[key]:
            raise UserError(
                f"{path} was trained with --{key.replace('_', '-')} {saved[key]}, not {current[key]}: "
                f"use a new --run, or delete {path.parent} to retrain"
            )


def load_model(checkpoint_path, device, use_ema=False):
    """Rebuild a model from a checkpoint alone (it carries its config and class count)."""
    ckpt = artifacts.load_torch(checkpoint_path)
    model = build_model(ckpt["num_classes"], ckpt["config"]["width"])
    weights = ckpt["ema"] if use_ema and ckpt.get("ema") is not None else ckpt["model"]
    model.load_state_dict(weights)
    return model.to(device).eval(), ckpt


def fit(stage_dir, stage, cfg, model, objective, stream, epochs, lr, seed, evaluate=None):
    """Train model on stream with objective(model, batch, progress) -> (loss, stats); resumable.

    Writes stage_dir/metrics.csv every epoch, last.pt at most every cfg.save_every_s (always at the
    early/mid/final epochs), and early/mid/final.pt. Returns the metrics rows.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    ema = EMA(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    generator = make_generator(seed, device)
    torch.manual_seed(seed)
    start, metrics = 0, []
    last_path = artifacts.checkpoint_path(stage_dir, "last")
    if last_path.exists() and cfg.resume:
        ckpt = artifacts.load_torch(last_path)
        check_same_recipe(ckpt["config"], cfg, last_path)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if ema is not None and ckpt["ema"] is not None:
            ema.state = {k: v.to(device) for k, v in ckpt["ema"].items()}
        generator.set_state(ckpt["generator"])
        torch.set_rng_state(ckpt["torch_rng"])
        start, metrics = ckpt["epoch"], list(ckpt["metrics"])
        if start >= epochs:
            print(f"{stage}: already trained to epoch {start} in {stage_dir}; skipping")
            return metrics
        print(f"{stage}: resuming from epoch {start} of {epochs} ({last_path})")
    precision = Precision(device, cfg.amp)
    if cfg.compile and device.type == "cuda":
        model.features.compile()  # in place: state_dict keys stay the same
    tags = tag_epochs(epochs)
    last_save = time.monotonic()
    total_steps = epochs * stream.steps
    for epoch in range(start + 1, epochs + 1):
        began, sums = time.monotonic(), defaultdict(float)
        model.train()
        bar = tqdm(stream.epoch(generator), total=stream.steps, desc=f"{stage} epoch {epoch}/{epochs}", leave=False, disable=None)
        for step, batch in enumerate(bar):
            progress = ((epoch - 1) * stream.steps + step) / total_steps
            stats = train_step(model, optimizer, precision, objective, batch, progress, ema)
            for key, value in stats.items():
                sums[key] += value  # tensors stay on the device: no sync per step on CUDA
        row = {"epoch": epoch, "seconds": round(time.monotonic() - began, 3)}
        row.update({key: round(float(total) / stream.steps, 5) for key, total in sums.items()})
        if evaluate is not None and (epoch % cfg.eval_every == 0 or epoch == epochs):
            row.update(evaluate(model, ema))
        metrics.append(row)
        print(f"{stage} epoch {epoch}/{epochs} " + " ".join(f"{k}={v}" for k, v in row.items() if k != "epoch"))
        artifacts.save_text(artifacts.metrics_path(stage_dir), pd.DataFrame(metrics).to_csv(index=False))
        tagged = [tag for tag, at in tags.items() if at == epoch]
        if tagged or epoch == epochs or time.monotonic() - last_save >= cfg.save_every_s:
            ckpt = _checkpoint(model, optimizer, ema, generator, epoch, metrics, cfg, stream.data.num_classes, stage)
            for tag in tagged:
                artifacts.save_torch(artifacts.checkpoint_path(stage_dir, tag), ckpt)
            artifacts.save_torch(last_path, ckpt)
            last_save = time.monotonic()
    return metrics
