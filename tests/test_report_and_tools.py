"""s07 report, s08 offline evaluation, and the Kaggle wrapper (no network)."""
import sys
import types
import zipfile

import pytest

from conftest import FAST, bmp_bytes, doodle
from stages import kaggle, s01_preprocess, s02_train_dann, s05_ensemble, s06_write_submission, s07_report, s08_eval_doodles
from stages.core.errors import UserError


@pytest.fixture
def trained(tiny, workdir):
    args = ["--run", "t", "--data", str(tiny["zip"]), "--target-labels", str(tiny["labels"]), *FAST, "--epochs", "2",
            "--report-points", "20"]
    for stage in (s01_preprocess, s02_train_dann, s05_ensemble, s06_write_submission):
        stage.main(args)
    return workdir / "checkpoints" / "t"


def test_report_writes_markdown_and_non_empty_pngs(trained):
    s07_report.main(["--run", "t"])
    report = (trained / "report.md").read_text()
    for name in ("curves", "tsne", "classes", "confusion"):
        png = trained / "report" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
        assert f"report/{name}.png" in report
    assert "## Resolved config" in report and "s02_train_dann" in report


def eval_set(folder, num_classes, rng_seed=0):
    import numpy as np

    rng = np.random.default_rng(rng_seed)
    folder.mkdir()
    with zipfile.ZipFile(folder / "doodles.zip", "w") as archive:
        for i in range(12):
            archive.writestr(f"test_data/0/{i:05d}.bmp", bmp_bytes(doodle(i % 3, rng)))
    (folder / "labels.csv").write_text("id,label,source\n" + "".join(f"{i},{i % num_classes},bitmap\n" for i in range(12)))
    return folder


def test_eval_doodles_reports_balanced_accuracy(trained, tiny, capsys):
    folder = eval_set(tiny["tmp"] / "eval", num_classes=3)
    s08_eval_doodles.main(["--run", "t", "--eval-doodles", str(folder)])
    out = capsys.readouterr().out
    assert "class 0:" in out and "balanced accuracy" in out


def test_eval_doodles_refuses_another_class_count(trained, tiny):
    folder = eval_set(tiny["tmp"] / "eval10", num_classes=10)
    with pytest.raises(UserError, match="has 10 classes but run t was trained on 3"):
        s08_eval_doodles.main(["--run", "t", "--eval-doodles", str(folder)])


def test_kaggle_without_package_or_token_says_how_to_set_up(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "kaggle", None)  # as if not installed
    with pytest.raises(UserError, match="pip install kaggle"):
        kaggle.main(["download", "--dest", str(tmp_path)])
    fake = types.ModuleType("kaggle.api.kaggle_api_extended")
    fake.KaggleApi = object
    monkeypatch.setitem(sys.modules, "kaggle", types.ModuleType("kaggle"))
    monkeypatch.setitem(sys.modules, "kaggle.api", types.ModuleType("kaggle.api"))
    monkeypatch.setitem(sys.modules, "kaggle.api.kaggle_api_extended", fake)
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    with pytest.raises(UserError, match="no Kaggle API token"):
        kaggle.main(["download", "--dest", str(tmp_path)])


def test_kaggle_submit_validates_before_upload(trained, monkeypatch, workdir):
    calls = []

    class FakeApi:
        def authenticate(self):
            calls.append("auth")

        def competition_submit(self, path, message, competition):
            calls.append((path, message, competition))

    fake = types.ModuleType("kaggle.api.kaggle_api_extended")
    fake.KaggleApi = FakeApi
    monkeypatch.setitem(sys.modules, "kaggle", types.ModuleType("kaggle"))
    monkeypatch.setitem(sys.modules, "kaggle.api", types.ModuleType("kaggle.api"))
    monkeypatch.setitem(sys.modules, "kaggle.api.kaggle_api_extended", fake)
    monkeypatch.setenv("KAGGLE_USERNAME", "u")
    monkeypatch.setenv("KAGGLE_KEY", "k")
    submission = workdir / "submissions" / "t.csv"
    good = submission.read_text()
    submission.write_text(good.replace("id,label", "id,lbl"))
    with pytest.raises(UserError, match="header must be id,label"):
        kaggle.main(["submit", "--run", "t", "-m", "x"])
    assert calls == []
    submission.write_text(good)
    kaggle.main(["submit", "--run", "t", "-m", "first try"])
    assert calls == ["auth", (str(submission), "first try", kaggle.COMPETITION)]


def test_label_free_selection_feeds_the_ensemble(trained):
    from stages import s09_select_checkpoint

    s09_select_checkpoint.main(["--run", "t"])
    table = (trained / "selection.csv").read_text().splitlines()
    assert table[0] == "member,candidate,entropy,prior_kl,agreement,target_acc" and len(table) >= 3
    s05_ensemble.main(["--run", "t", "--select", "label_free"])
    import json

    chosen = json.loads((trained / "selection.json").read_text())["picks"]["0"]
    assert json.loads((trained / "ensemble.json").read_text())["members"] == [chosen]
