"""Reading the Kaggle layout from a zip or a folder, and one clear error for each bad input."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import NUM_CLASSES, PHOTOS_PER_CLASS, PROJECT, bmp_bytes, write_folder, write_labels, write_zip
from stages import s01_preprocess
from stages.core.data import decode_layout
from stages.core.dataset import open_layout
from stages.core.errors import UserError


def test_zip_and_folder_give_the_same_arrays(tiny):
    from_zip = decode_layout(open_layout(tiny["zip"]), 32, 170, 300, progress=False)
    folder = write_folder(tiny["tmp"] / "unzipped", tiny["members"])
    from_folder = decode_layout(open_layout(folder), 32, 170, 300, progress=False)
    for name, array in from_zip[0].items():
        np.testing.assert_array_equal(array, from_folder[0][name])
    assert from_zip[1]["content_sha256"] == from_folder[1]["content_sha256"]
    # the parent of real_or_drawing/ works too
    assert open_layout(folder.parent).num_classes == NUM_CLASSES


def test_layout_contents(tiny):
    arrays, manifest = decode_layout(open_layout(tiny["zip"]), 32, 170, 300, progress=False)
    assert manifest["num_classes"] == NUM_CLASSES
    assert arrays["source_rgb"].shape == (NUM_CLASSES * PHOTOS_PER_CLASS, 32, 32, 3)
    assert arrays["target_gray"].shape[1:] == (32, 32)  # 28x28 doodles resized once
    assert list(arrays["target_ids"]) == sorted(tiny["truth"])
    assert set(np.unique(arrays["source_canny"])) <= {0, 255}
    assert np.bincount(arrays["source_labels"]).tolist() == [PHOTOS_PER_CLASS] * NUM_CLASSES


def mutated(tiny, drop=(), add=None, directories=()):
    members = {k: v for k, v in tiny["members"].items() if not any(k.startswith(d) for d in drop)}
    members.update(add or {})
    return write_zip(tiny["tmp"] / "bad.zip", members, directories)


def first_doodle(tiny):
    return next(k for k in tiny["members"] if "test_data" in k)


BAD_INPUTS = {
    "missing path": (lambda t: t["tmp"] / "nope.zip", "does not exist"),
    "not a zip": (lambda t: (t["tmp"] / "x.zip").write_text("hello") and t["tmp"] / "x.zip", "not a zip"),
    "no train_data": (lambda t: write_zip(t["tmp"] / "b.zip", {"a/b.bmp": b"x"}), "no train_data"),
    "no test images": (lambda t: mutated(t, drop=["real_or_drawing/test_data"]), "no test images"),
    "empty class folder": (
        lambda t: mutated(t, directories=["real_or_drawing/train_data/3/"]), "train_data/3 has no images"),
    "missing class folder": (lambda t: mutated(t, drop=["real_or_drawing/train_data/1/"]), "train_data/1 is missing"),
    "class not a number": (
        lambda t: mutated(t, add={"real_or_drawing/train_data/cat/1.bmp": t["members"]["real_or_drawing/train_data/0/0.bmp"]}),
        "is not a number"),
    "corrupt image": (lambda t: mutated(t, add={"real_or_drawing/train_data/0/0.bmp": b"BMnot really"}), "not a readable image"),
    "truncated image": (
        lambda t: mutated(t, add={first_doodle(t): t["members"][first_doodle(t)][:200]}), "not a readable image"),
    "wrong image size": (
        lambda t: mutated(t, add={"real_or_drawing/train_data/2/999.bmp": bmp_bytes(np.zeros((30, 30, 3), np.uint8))}),
        "is 30x30"),
    "non-numeric id": (
        lambda t: mutated(t, add={"real_or_drawing/test_data/0/abc.bmp": t["members"][first_doodle(t)]}), "no numeric id"),
    "duplicate id": (
        lambda t: mutated(t, add={"real_or_drawing/test_data/0/" + first_doodle(t).split("/")[-1].lstrip("0"):
                                  t["members"][first_doodle(t)]}), "share id"),
    "member escapes": (lambda t: mutated(t, add={"../evil.bmp": b"x"}), "escape"),
    "absolute member": (lambda t: mutated(t, add={"/etc/evil.bmp": b"x"}), "escape"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_error_and_writes_nothing(case, tiny, workdir):
    make, expected = BAD_INPUTS[case]
    path = make(tiny)
    with pytest.raises(UserError, match=expected):
        s01_preprocess.main(["--run", "bad", "--data", str(path)])
    assert not (workdir / "checkpoints" / "bad").exists()


@pytest.mark.parametrize("content,expected", [
    ("id,label\n0,1\n", "no label for test id"),
    ("a,b\n1,2\n", "header id,label"),
    ("id,label\n0,x\n", "whole numbers"),
    ("id,label\n0,99\n", "labels must lie in"),
    ("id,label\n0,1\n0,2\n", "appears twice"),
])
def test_malformed_target_labels(content, expected, tiny, workdir):
    bad = tiny["tmp"] / "labels.csv"
    bad.write_text(content)
    with pytest.raises(UserError, match=expected):
        s01_preprocess.main(["--run", "bad", "--data", str(tiny["zip"]), "--target-labels", str(bad)])
    assert not (workdir / "checkpoints" / "bad").exists()


def test_cli_bad_input_exits_2_with_one_line(tiny, workdir):
    result = subprocess.run([sys.executable, "-m", "stages.s01_preprocess", "--run", "x", "--data", str(tiny["tmp"] / "nope")],
                            cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "nope does not exist" in result.stderr


def test_later_stage_names_the_stage_that_makes_its_input(tiny, workdir):
    s01_preprocess.main(["--run", "r", "--data", str(tiny["zip"])])
    from stages import s05_ensemble

    with pytest.raises(UserError, match="run s02_train_dann first"):
        s05_ensemble.main(["--run", "r"])
    with pytest.raises(UserError, match="run s01_preprocess first"):
        s05_ensemble.main(["--run", "never-made"])


def test_labels_written_by_helper_are_valid(tiny):
    assert write_labels(tiny["tmp"] / "l.csv", {1: 0}).read_text() == "id,label\n1,0\n"
