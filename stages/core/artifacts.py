"""Every path of a run directory, and atomic writes so a crash never leaves a truncated file."""
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Where checkpoints/ and submissions/ live: the project folder, unless ROD_WORKDIR names another.
WORKDIR_VARIABLE = "ROD_WORKDIR"
_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic_write(path, write_fn):
    """Write through write_fn(file_object) to a temporary file beside path, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as handle:
            write_fn(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_bytes(path, data: bytes):
    _atomic_write(path, lambda f: f.write(data))


def save_text(path, text: str):
    save_bytes(path, text.encode("utf-8"))


def save_json(path, obj):
    save_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def load_json(path):
    return json.loads(Path(path).read_text())


def save_array(path, array):
    _atomic_write(path, lambda f: np.save(f, np.ascontiguousarray(array)))


def save_torch(path, obj):
    _atomic_write(path, lambda f: torch.save(obj, f))


def load_torch(path):
    # weights_only: a checkpoint shared by someone else cannot run code when loaded.
    return torch.load(path, map_location="cpu", weights_only=True)


def require(path, made_by):
    """Return path if it exists, else tell the user which stage makes it."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path} is missing: run {made_by} first (or bash run_all.sh)")
    return path


@dataclass(frozen=True)
class RunPaths:
    """The layout of checkpoints/<run>/ and submissions/<run>.csv, defined once."""

    run: str
    root_dir: Path = field(default_factory=lambda: Path(os.environ.get(WORKDIR_VARIABLE) or PROJECT_ROOT))

    @property
    def root(self) -> Path:
        return self.root_dir / "checkpoints" / self.run

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    # s01_preprocess
    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def manifest(self) -> Path:
        return self.cache / "manifest.json"

    def cache_array(self, name) -> Path:
        return self.cache / f"{name}.npy"

    @property
    def samples_png(self) -> Path:
        return self.root / "samples.png"

    # training stages: one folder per (stage, member) so seeds never collide
    def dann_dir(self, member) -> Path:
        return self.root / f"dann_m{member}"

    def mcc_dir(self, member, round_) -> Path:
        return self.root / f"mcc_m{member}_r{round_}"

    def stage_dirs(self, member, rounds):
        """A member's training folders in the order they run: DANN, then each fine-tuning round."""
        return [self.dann_dir(member)] + [self.mcc_dir(member, r) for r in range(1, rounds + 1)]

    def model_after(self, member, round_) -> Path:
        """The final checkpoint of a member after round_ fine-tuning rounds (0 = the DANN model)."""
        stage_dir = self.dann_dir(member) if round_ == 0 else self.mcc_dir(member, round_)
        return checkpoint_path(stage_dir, "final")

    @staticmethod
    def maker_of(round_):
        return "s02_train_dann" if round_ == 0 else f"s04_finetune_mcc (round {round_})"

    def pseudo_labels(self, round_, member=None) -> Path:
        """The round's pseudo-labels: shared by all members, or one member's own (member given)."""
        owner = "" if member is None else f"m{member}_"
        return self.root / f"pseudo_labels_{owner}r{round_}.csv"

    # s05/s06
    @property
    def ensemble_probs(self) -> Path:
        return self.root / "ensemble_probs.npy"

    @property
    def ensemble_info(self) -> Path:
        return self.root / "ensemble.json"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def report_md(self) -> Path:
        return self.root / "report.md"

    @property
    def submission(self) -> Path:
        return self.root_dir / "submissions" / f"{self.run}.csv"


def checkpoint_path(stage_dir, tag) -> Path:
    return Path(stage_dir) / f"{tag}.pt"


def metrics_path(stage_dir) -> Path:
    return Path(stage_dir) / "metrics.csv"


def update_summary(paths: RunPaths, **entries):
    """Merge entries into summary.json (atomic)."""
    summary = load_json(paths.summary) if paths.summary.exists() else {}
    summary.update(entries)
    save_json(paths.summary, summary)
    return summary


def update_summary_table(paths: RunPaths, table, entries):
    """Merge entries into the dict summary.json holds under table (stage timings, last metrics)."""
    summary = load_json(paths.summary) if paths.summary.exists() else {}
    summary[table] = {**summary.get(table, {}), **entries}
    save_json(paths.summary, summary)
    return summary
