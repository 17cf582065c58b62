"""Prediction: deterministic, flip averaging, AdaBN, class rebalancing, ensemble averaging."""
import numpy as np
import torch

from stages.core import artifacts, config
from stages.core.models import build_model
from stages.core.predict import adapt_batchnorm, predict_probs
from stages.core.pseudo import balance_probs
from stages.s05_ensemble import ensemble_probs


def images(n=20, seed=0):
    return torch.randint(0, 256, (n, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def small_model(seed):
    torch.manual_seed(seed)
    return build_model(3, 0.125).eval()


def test_prediction_is_deterministic_and_flip_averaged():
    model, x = small_model(0), images()
    a, b = predict_probs(model, x, batch_size=7), predict_probs(model, x, batch_size=20)
    np.testing.assert_allclose(a, b, atol=1e-6)
    plain = predict_probs(model, x, tta_flip=False)
    mirrored = predict_probs(model, x.flip(-1), tta_flip=False)
    np.testing.assert_allclose(a, (plain + mirrored) / 2, atol=1e-6)
    np.testing.assert_allclose(a.sum(1), 1, atol=1e-5)


def test_adabn_uses_the_target_statistics():
    model, x = small_model(0), images(64)
    adapt_batchnorm(model, x, batch_size=16)
    first_conv, first_norm = model.features.conv[0], model.features.conv[1]
    with torch.no_grad():
        expected = first_conv(x.float() / 255).mean(dim=(0, 2, 3))
    torch.testing.assert_close(first_norm.running_mean, expected, atol=1e-4, rtol=1e-4)
    assert not model.training


def test_balance_makes_class_shares_uniform_and_keeps_rows_distributions():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([1, 1, 1], size=300)
    probs[:, 0] += 1.5  # a model that favours class 0
    probs /= probs.sum(1, keepdims=True)
    balanced = balance_probs(probs)
    np.testing.assert_allclose(balanced.sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(balanced.sum(0), [100, 100, 100], rtol=1e-3)
    counts = np.bincount(balanced.argmax(1), minlength=3)
    assert counts.max() - counts.min() < np.ptp(np.bincount(probs.argmax(1), minlength=3))


def test_ensemble_is_the_mean_of_its_members(tmp_path):
    x, paths = images(), []
    for seed in (1, 2):
        model = small_model(seed)
        path = tmp_path / f"m{seed}.pt"
        artifacts.save_torch(path, {"num_classes": 3, "config": {"width": 0.125}, "model": model.state_dict(), "ema": None})
        paths.append(path)
    cfg = config.resolve(["--run", "a", "--tta-flip", "false"])
    mean, members = ensemble_probs(paths, x, torch.device("cpu"), cfg, use_ema=False)
    np.testing.assert_allclose(members[0], predict_probs(small_model(1), x, tta_flip=False), atol=1e-6)
    np.testing.assert_allclose(mean, (members[0] + members[1]) / 2, atol=1e-6)
    assert not np.allclose(members[0], members[1])
