"""One dataclass of settings; presets are TOML files; the command line overrides both.

Precedence, lowest first: dataclass defaults < preset [kaggle] < preset [cpu] (cpu scale only)
< the run's saved config.json (a stage run alone) < --key value on the command line.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .errors import UserError

PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"
SCALES = ("auto", "kaggle", "cpu")


@dataclass
class Config:
    # run and data
    run: str = "default"
    data: str = ""
    target_labels: str = ""
    preset: str = "simple"
    scale: str = "auto"  # kaggle (GPU, full data) | cpu (2 cores, 3,000 + 3,000 yardstick) | auto
    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    members: int = 1  # models trained with seeds seed, seed+1, ... and ensembled
    overwrite: bool = False  # allow replacing an existing submissions/<run>.csv
    resume: bool = True  # continue a stage from its rolling 'last' checkpoint; false trains it again
    # preprocess
    image_size: int = 32
    canny_low: int = 170
    canny_high: int = 300
    # model
    source_form: str = "canny"  # canny | gray: what the photos look like to the network
    width: float = 1.0  # channel multiplier of the TA network
    # DANN training (s02)
    epochs: int = 200
    batch_size: int = 32  # per domain: 32 source + 32 target
    lr: float = 1e-3
    weight_decay: float = 0.0
    lambda_schedule: str = "fixed"  # fixed | adaptive (2/(1+exp(-10p)) - 1)
    lambda_max: float = 0.1
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # 0 = no EMA teacher; else decay per step
    aug_flip: bool = True
    aug_rotate: float = 15.0  # degrees
    aug_translate: float = 0.0  # fraction of the image
    aug_scale: float = 0.0  # +- relative zoom
    source_holdout: float = 0.0  # fraction of each class's photos kept out of training: s09's source-accuracy signal
    eval_every: int = 1  # epochs between evaluations (held-out photos; target accuracy only with --target-labels)
    # pseudo-labels (s03)
    pseudo_rounds: int = 0
    pseudo_teacher: str = "ema"  # model | ema (EMA weights, when ema_decay > 0)
    ensemble_teacher: bool = True  # true: the members' average labels for all; false: each member labels for itself
    pseudo_start: float = 0.4  # fraction of each class's share kept in round 1
    pseudo_step: float = 0.2  # added per round, capped at 1
    pseudo_floor: float = 0.0  # minimum confidence
    # fine-tuning (s04)
    mcc_epochs: int = 0
    mcc_lr: float = 3e-4
    mcc_mu: float = 1.0
    mcc_temperature: float = 2.5
    mcc_adversarial: bool = False
    pseudo_weight: float = 1.0
    # prediction (s03 teacher and s05)
    select: str = "last"  # last | label_free (the checkpoint s09_select_checkpoint picked per member)
    tta_flip: bool = True  # average each image with its mirror image
    adabn: bool = False  # recompute BatchNorm statistics on the target before predicting
    balance: bool = False  # the target is balanced: rebalance predicted class shares (Sinkhorn)
    # offline evaluation (s08): a folder with doodles.zip + labels.csv (id,label[,source])
    eval_doodles: str = ""
    # report (s07)
    report_points: int = 1000  # t-SNE points per domain (a seeded subsample)
    # speed
    amp: bool = True  # mixed precision on CUDA
    compile: bool = False  # torch.compile on CUDA
    threads: int = 0  # CPU threads, 0 = all cores
    save_every_s: float = 60.0  # seconds between rolling 'last' checkpoints (tagged epochs always save)

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def member_seeds(self):
        return [self.seed + m for m in range(self.members)]

    def to_dict(self):
        return dataclasses.asdict(self)


CHOICES = {
    "scale": SCALES,
    "device": ("auto", "cpu", "cuda"),
    "source_form": ("canny", "gray"),
    "lambda_schedule": ("fixed", "adaptive"),
    "pseudo_teacher": ("model", "ema"),
    "select": ("last", "label_free"),
}

FIELD_TYPES = {f.name: f.type for f in fields(Config)}
# Switches that apply to one invocation only: a saved config never carries them into the next.
PER_INVOCATION = ("overwrite", "resume")


def parse_value(key, text):
    kind = FIELD_TYPES[key]
    if kind == "bool":
        lowered = str(text).lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise UserError(f"--{key.replace('_', '-')} expects true or false, got {text!r}")
    try:
        return {"int": int, "float": float, "str": str}[kind](text)
    except ValueError:
        raise UserError(f"--{key.replace('_', '-')} expects a {kind}, got {text!r}") from None


def settings_help():
    """One line per setting: --key (type, default)."""
    return "\n".join(f"  --{f.name.replace('_', '-')} ({f.type}, default {f.default!r})" for f in fields(Config))


def parse_overrides(argv):
    """Turn ['--epochs', '5', '--overwrite'] into {'epochs': 5, 'overwrite': True}; unknown keys are an error."""
    if "-h" in argv or "--help" in argv:
        print("settings (--key value; true/false for switches; presets in stages/presets/):\n" + settings_help())
        raise SystemExit(0)
    overrides, i = {}, 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--"):
            raise UserError(f"unexpected argument {token!r}: settings are given as --key value")
        key = token[2:].replace("-", "_")
        if "=" in key:
            key, value = key.split("=", 1)
            i += 1
        elif FIELD_TYPES.get(key) == "bool" and (i + 1 == len(argv) or argv[i + 1].startswith("--")):
            value = "true"
            i += 1
        else:
            if i + 1 == len(argv):
                raise UserError(f"{token} needs a value")
            value = argv[i + 1]
            i += 2
        if key not in FIELD_TYPES:
            raise UserError(f"unknown setting {token}; known settings: {', '.join(sorted(FIELD_TYPES))}")
        overrides[key] = parse_value(key, value)
    return overrides


def load_preset(name):
    path = PRESET_DIR / f"{name}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in PRESET_DIR.glob("*.toml")))
        raise UserError(f"unknown preset {name!r} ({path} not found); presets: {known}")
    with open(path, "rb") as handle:
        preset = tomllib.load(handle)
    for table in ("kaggle", "cpu"):
        for key in preset.get(table, {}):
            if key not in FIELD_TYPES:
                raise UserError(f"{path}: [{table}] sets unknown setting {key!r}")
    return preset


def apply(cfg: Config, values: dict, origin: str) -> Config:
    for key, value in values.items():
        if key not in FIELD_TYPES:
            raise UserError(f"{origin}: unknown setting {key!r}")
        setattr(cfg, key, parse_value(key, value) if isinstance(value, str) else value)
    return cfg


def cpu_scale(cfg: Config) -> bool:
    if cfg.scale == "auto":
        return cfg.resolved_device().type == "cpu"
    return cfg.scale == "cpu"


def from_preset(name, overrides) -> Config:
    preset = load_preset(name)
    cfg = apply(Config(preset=name), preset.get("kaggle", {}), f"preset {name}")
    scale_probe = apply(Config(**cfg.to_dict()), overrides, "command line")
    if cpu_scale(scale_probe):
        apply(cfg, preset.get("cpu", {}), f"preset {name} [cpu]")
    return apply(cfg, overrides, "command line")


def validate(cfg: Config) -> Config:
    for key, allowed in CHOICES.items():
        if getattr(cfg, key) not in allowed:
            raise UserError(f"--{key.replace('_', '-')} must be one of {', '.join(allowed)}, got {getattr(cfg, key)!r}")
    if not cfg.run or any(c in cfg.run for c in "/\\") or cfg.run.startswith("."):
        raise UserError(f"--run must be a plain name (no slashes), got {cfg.run!r}")
    positive = ("epochs", "batch_size", "members", "image_size", "eval_every")
    for key in positive:
        if getattr(cfg, key) < 1:
            raise UserError(f"--{key.replace('_', '-')} must be at least 1, got {getattr(cfg, key)}")
    if cfg.width <= 0 or cfg.lr <= 0:
        raise UserError("--width and --lr must be positive")
    if not 0.0 <= cfg.source_holdout < 0.5:
        raise UserError(f"--source-holdout must lie in [0, 0.5), got {cfg.source_holdout}: e.g. 0.1 keeps a tenth of the photos out")
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device auto or cpu")
    return cfg


def resolve(argv, saved: dict | None = None) -> Config:
    """Build the config of a stage run: the preset when named (or no saved config), else the saved one."""
    overrides = parse_overrides(argv)
    if "run" not in overrides:
        raise UserError("--run NAME is required (the name of the run directory under checkpoints/)")
    if saved is not None and "preset" not in overrides:
        known = {k: v for k, v in saved.items() if k in FIELD_TYPES and k not in PER_INVOCATION}
        cfg = apply(Config(**known), overrides, "command line")
    else:
        cfg = from_preset(overrides.get("preset", "simple"), overrides)
    return validate(cfg)
