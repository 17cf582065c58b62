"""The one training loop: resume equality, checkpoints, recipe checks."""
import numpy as np
import pytest
import torch

from conftest import FAST
from stages import s01_preprocess
from stages.core import artifacts, config, stage
from stages.core.data import augment, holdout_split, index_batches, load_cache
from stages.core.errors import UserError
from stages.core.models import build_model
from stages.core.train import DomainStream, fit, load_model, tag_epochs
from stages.s02_train_dann import dann_objective


def prepared(tiny, extra=()):
    s01_preprocess.main(["--run", "r", "--data", str(tiny["zip"])] + FAST)
    cfg = config.resolve(["--run", "r"] + FAST + ["--epochs", "3", "--ema-decay", "0.9", "--lambda-schedule", "adaptive",
                                                 "--aug-translate", "0.1", "--aug-scale", "0.1"] + list(extra))
    paths = artifacts.RunPaths("r")
    return cfg, paths, load_cache(paths, cfg.source_form, torch.device("cpu"), cfg.source_holdout)


def train(cfg, data, stage_dir, init_seed=0, evaluate=None):
    torch.manual_seed(init_seed)
    model = build_model(data.num_classes, cfg.width)
    metrics = fit(stage_dir, "t", cfg, model, dann_objective(cfg), DomainStream(data, cfg), cfg.epochs, cfg.lr, 0, evaluate)
    return model, metrics


def test_resumed_run_ends_with_the_same_weights(tiny, workdir):
    cfg, paths, data = prepared(tiny)
    straight, straight_metrics = train(cfg, data, workdir / "straight")

    calls = []

    def crash_in_epoch_two(model, ema):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed before epoch 2 was saved
        return {}

    with pytest.raises(KeyboardInterrupt):
        train(cfg, data, workdir / "resumed", evaluate=crash_in_epoch_two)
    assert artifacts.load_torch(workdir / "resumed" / "last.pt")["epoch"] == 1
    resumed, resumed_metrics = train(cfg, data, workdir / "resumed", init_seed=123)  # init is overwritten by last.pt
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(straight_metrics) == drop(resumed_metrics)
    assert not list((workdir / "resumed").glob(".*tmp"))


def test_checkpoints_rebuild_the_model_alone(tiny, workdir):
    cfg, paths, data = prepared(tiny)
    model, metrics = train(cfg, data, workdir / "s")
    assert [r["epoch"] for r in metrics] == [1, 2, 3]
    for tag in ("early", "mid", "final", "last"):
        assert (workdir / "s" / f"{tag}.pt").exists()
    rebuilt, ckpt = load_model(workdir / "s" / "final.pt", torch.device("cpu"))
    assert ckpt["epoch"] == 3 and ckpt["config"]["epochs"] == 3 and ckpt["optimizer"] and ckpt["generator"] is not None
    x = torch.rand(4, 1, 32, 32)
    model.eval()
    assert torch.allclose(rebuilt(x), model(x))
    ema_model, _ = load_model(workdir / "s" / "final.pt", torch.device("cpu"), use_ema=True)
    assert not torch.allclose(ema_model(x), model(x))
    assert (workdir / "s" / "metrics.csv").read_text().startswith("epoch,seconds,")


def test_finished_stage_is_skipped_and_changed_recipe_refused(tiny, workdir):
    cfg, paths, data = prepared(tiny)
    train(cfg, data, workdir / "s")
    before = (workdir / "s" / "final.pt").stat().st_mtime_ns
    train(cfg, data, workdir / "s")
    assert (workdir / "s" / "final.pt").stat().st_mtime_ns == before
    cfg.lr = 0.5
    with pytest.raises(UserError, match="was trained with --lr"):
        train(cfg, data, workdir / "s")


def test_tag_epochs():
    assert tag_epochs(200) == {"early": 20, "mid": 100, "final": 200}
    assert tag_epochs(1) == {"early": 1, "mid": 1, "final": 1}


def test_batched_augmentation_is_seeded_and_keeps_shape():
    x = torch.rand(16, 1, 32, 32)
    a = augment(x, torch.Generator().manual_seed(1), True, 15, 0.1, 0.1)
    b = augment(x, torch.Generator().manual_seed(1), True, 15, 0.1, 0.1)
    c = augment(x, torch.Generator().manual_seed(2), True, 15, 0.1, 0.1)
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(augment(x, torch.Generator(), False, 0, 0, 0), x)
    flipped_only = augment(x, torch.Generator().manual_seed(3), True, 0, 0, 0)
    for original, out in zip(x, flipped_only):
        assert torch.equal(out, original) or torch.equal(out, original.flip(-1))


def test_index_batches_cover_every_index_once_per_pass():
    batches = index_batches(10, 5, 4, torch.Generator().manual_seed(0), "cpu")
    assert batches.shape == (5, 4)
    flat = batches.flatten().tolist()
    assert sorted(flat[:10]) == list(range(10)) and sorted(flat[10:20]) == list(range(10))


def test_atomic_write_leaves_old_file_on_crash(tmp_path):
    path = tmp_path / "a.json"
    artifacts.save_json(path, {"v": 1})

    def broken(handle):
        handle.write(b"{partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        artifacts._atomic_write(path, broken)
    assert artifacts.load_json(path) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_checkpoints_load_with_weights_only(tmp_path):
    artifacts.save_torch(tmp_path / "x.pt", {"a": np.int64(1)})  # a numpy scalar is not a plain weight
    with pytest.raises(Exception):
        artifacts.load_torch(tmp_path / "x.pt")


def test_held_out_photos_are_a_fixed_per_class_split_kept_out_of_training(tiny, workdir):
    labels = np.repeat(np.arange(3), 20)
    train_idx, held = holdout_split(labels, 0.1)
    assert np.bincount(labels[held]).tolist() == [2, 2, 2]
    assert len(np.intersect1d(train_idx, held)) == 0 and len(train_idx) + len(held) == len(labels)
    assert np.array_equal(held, holdout_split(labels, 0.1)[1])  # the same split every time
    assert len(holdout_split(labels, 0.0)[1]) == 0

    cfg, paths, data = prepared(tiny, ["--source-holdout", "0.2"])
    whole = load_cache(paths, cfg.source_form, torch.device("cpu"))
    assert len(data.source_y) + len(data.source_val_y) == len(whole.source_y) and len(data.source_val_y) > 0
    _, metrics = train(cfg, data, paths.dann_dir(0), evaluate=stage.epoch_evaluator(cfg, data))
    assert all(0.0 <= row["source_val_acc"] <= 1.0 and "source_val_acc_ema" in row for row in metrics)


def test_source_holdout_outside_its_range_is_refused():
    with pytest.raises(UserError, match="--source-holdout"):
        config.resolve(["--run", "r", "--source-holdout", "0.7"])
