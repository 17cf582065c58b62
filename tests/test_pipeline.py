"""End to end through the real entry point: bash run_all.sh on a tiny dataset, on CPU."""
import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import FAST, PROJECT
from stages import s06_write_submission
from stages.core import artifacts
from stages.core.errors import UserError


def run_all(workdir, *args):
    env = dict(os.environ, ROD_WORKDIR=str(workdir))
    return subprocess.run(["bash", str(PROJECT / "run_all.sh"), *map(str, args)], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_run_all_every_stage_then_rerun_and_overwrite_rules(tiny, workdir):
    args = ["--data", tiny["zip"], "--target-labels", tiny["labels"], "--preset", "simple", "--run", "e2e", *FAST,
            "--epochs", "2", "--members", "2", "--ema-decay", "0.9", "--pseudo-rounds", "2", "--mcc-epochs", "1"]
    result = run_all(workdir, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("target accuracy: ") and len(lines[-1].split()[-1]) == 6
    assert lines[-2] == f"submission: {workdir / 'submissions' / 'e2e.csv'}"

    run_dir = workdir / "checkpoints" / "e2e"
    submission = pd.read_csv(workdir / "submissions" / "e2e.csv")
    assert list(submission.columns) == ["id", "label"]
    assert submission["id"].tolist() == sorted(tiny["truth"])
    summary = json.loads((run_dir / "summary.json").read_text())
    truth = np.array([tiny["truth"][i] for i in submission["id"]])
    assert summary["target_accuracy"] == round(float((submission["label"].to_numpy() == truth).mean()), 4)
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 2 and config["members"] == 2
    for member in (0, 1):
        assert (run_dir / f"dann_m{member}" / "metrics.csv").exists()
        for round_ in (1, 2):
            assert (run_dir / f"mcc_m{member}_r{round_}" / "final.pt").exists()
    for round_ in (1, 2):
        pseudo = pd.read_csv(run_dir / f"pseudo_labels_r{round_}.csv")
        assert list(pseudo.columns) == ["id", "label", "confidence"]
    assert len(pd.read_csv(run_dir / "pseudo_labels_r2.csv")) >= len(pd.read_csv(run_dir / "pseudo_labels_r1.csv"))
    assert json.loads((run_dir / "ensemble.json").read_text())["members"] == ["mcc_m0_r2/final.pt", "mcc_m1_r2/final.pt"]
    assert (run_dir / "samples.png").stat().st_size > 1000
    assert "![t-SNE](report/tsne.png)" in (run_dir / "report.md").read_text()

    # Re-running the same run resumes: every training stage is already done, the same submission stands.
    again = run_all(workdir, *args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already trained" in again.stdout and "already holds this data" in again.stdout

    # Another prediction never replaces the submission unless asked.
    probs = np.load(run_dir / "ensemble_probs.npy")
    artifacts.save_array(run_dir / "ensemble_probs.npy", np.roll(probs, 1, axis=1))
    with pytest.raises(UserError, match="already exists"):
        s06_write_submission.main(["--run", "e2e"])
    s06_write_submission.main(["--run", "e2e", "--overwrite"])
    assert pd.read_csv(workdir / "submissions" / "e2e.csv")["label"].tolist() != submission["label"].tolist()


def test_run_all_rejects_unknown_settings(tiny, workdir):
    result = run_all(workdir, "--data", tiny["zip"], "--run", "x", "--epoch", "3")
    assert result.returncode == 2
    assert "unknown setting --epoch" in result.stderr
    assert not (workdir / "checkpoints" / "x").exists()


def test_run_all_reads_relative_paths_from_where_the_user_stands(tiny, workdir):
    env = dict(os.environ, ROD_WORKDIR=str(workdir))
    result = subprocess.run(["bash", str(PROJECT / "run_all.sh"), "--data", "missing.zip", "--run", "x"],
                            cwd=tiny["tmp"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert f"{tiny['tmp']}/missing.zip does not exist" in result.stderr



def test_label_free_selection_scores_checkpoints_on_the_held_out_photos(tiny, workdir):
    from stages import s01_preprocess, s02_train_dann, s05_ensemble, s09_select_checkpoint

    run = ["--run", "held"]
    s01_preprocess.main(run + ["--data", str(tiny["zip"]), *FAST, "--epochs", "2", "--members", "2",
                               "--source-holdout", "0.25", "--select", "label_free"])
    for stage_main in (s02_train_dann.main, s09_select_checkpoint.main, s05_ensemble.main):
        stage_main(run)
    root = workdir / "checkpoints" / "held"
    selection = pd.read_csv(root / "selection.csv")
    assert selection["source_val_acc"].between(0, 1).all() and set(selection["member"]) == {0, 1}
    assert "source_val_acc" in pd.read_csv(root / "dann_m0" / "metrics.csv")
    picks = json.loads((root / "selection.json").read_text())["picks"]
    assert json.loads((root / "ensemble.json").read_text())["members"] == [picks["0"], picks["1"]]


def test_members_can_each_label_the_target_for_themselves(tiny, workdir):
    from stages import s01_preprocess, s02_train_dann, s03_pseudo_label, s04_finetune_mcc

    run = ["--run", "own"]
    s01_preprocess.main(run + ["--data", str(tiny["zip"]), *FAST, "--epochs", "2", "--members", "2",
                               "--ensemble-teacher", "false", "--pseudo-rounds", "1", "--mcc-epochs", "1"])
    for stage_main in (s02_train_dann.main, s03_pseudo_label.main, s04_finetune_mcc.main):
        stage_main(run)
    root = workdir / "checkpoints" / "own"
    assert not (root / "pseudo_labels_r1.csv").exists()
    for member in (0, 1):
        assert list(pd.read_csv(root / f"pseudo_labels_m{member}_r1.csv").columns) == ["id", "label", "confidence"]
        assert (root / f"mcc_m{member}_r1" / "final.pt").exists()
