"""The CUDA path (data on the GPU, mixed precision, compile); skipped where no GPU is present."""
import pytest
import torch

from conftest import FAST
from stages import s01_preprocess
from stages.core import artifacts, config
from stages.core.data import load_cache
from stages.core.models import build_model
from stages.core.predict import predict_probs
from stages.core.train import DomainStream, Precision, fit
from stages.s02_train_dann import dann_objective

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


@pytest.mark.parametrize("compile_", [False, True])
def test_training_and_prediction_on_cuda(tiny, workdir, compile_):
    s01_preprocess.main(["--run", "g", "--data", str(tiny["zip"])] + FAST)
    overrides = [a for a in FAST if a not in ("--device", "cpu")]
    cfg = config.resolve(["--run", "g", "--device", "cuda", "--epochs", "2", "--ema-decay", "0.9",
                          "--compile", str(compile_).lower()] + overrides)
    data = load_cache(artifacts.RunPaths("g"), "canny", torch.device("cuda"))
    assert data.source_x.is_cuda and data.target_x.is_cuda
    assert Precision(torch.device("cuda"), True).dtype in (torch.bfloat16, torch.float16)
    model = build_model(data.num_classes, cfg.width).cuda()
    metrics = fit(workdir / "g", "g", cfg, model, dann_objective(cfg), DomainStream(data, cfg), 2, 1e-3, 0)
    assert len(metrics) == 2 and all(torch.isfinite(torch.tensor(r["class_loss"])) for r in metrics)
    probs = predict_probs(model, data.target_x)
    assert probs.shape == (len(data.target_ids), data.num_classes)
