"""Tiny datasets in the Kaggle layout, made on the fly, and a scratch work directory for runs."""
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PROJECT = Path(__file__).resolve().parents[1]
NUM_CLASSES, PHOTOS_PER_CLASS, DOODLES_PER_CLASS = 3, 12, 8


def photo(label, rng):
    """A 32x32 RGB photo whose bright bar's position depends on its class."""
    array = rng.integers(0, 60, size=(32, 32, 3), dtype=np.uint8)
    array[4 + 8 * label : 10 + 8 * label, 4:28] = 230
    return array


def doodle(label, rng):
    """A 28x28 white-on-black doodle with the same class structure."""
    array = np.zeros((28, 28), dtype=np.uint8)
    array[3 + 7 * label : 6 + 7 * label, 3:25] = 255
    array[rng.integers(0, 28), rng.integers(0, 28)] = 255
    return array


def bmp_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="BMP")
    return buffer.getvalue()


def tiny_members(seed=0):
    """{member name: bytes} of a tiny dataset, and the doodles' true labels by id."""
    rng = np.random.default_rng(seed)
    members, labels = {}, {}
    for c in range(NUM_CLASSES):
        for j in range(PHOTOS_PER_CLASS):
            members[f"real_or_drawing/train_data/{c}/{c * PHOTOS_PER_CLASS + j}.bmp"] = bmp_bytes(photo(c, rng))
    ids = rng.permutation(NUM_CLASSES * DOODLES_PER_CLASS)
    for k, image_id in enumerate(ids):
        label = k % NUM_CLASSES
        members[f"real_or_drawing/test_data/0/{image_id:05d}.bmp"] = bmp_bytes(doodle(label, rng))
        labels[int(image_id)] = label
    return members, labels


def write_zip(path, members, directories=()):
    with zipfile.ZipFile(path, "w") as archive:
        for name in directories:
            archive.writestr(zipfile.ZipInfo(name), b"")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def write_folder(root, members):
    for name, data in members.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root / "real_or_drawing"


def write_labels(path, labels):
    path.write_text("id,label\n" + "".join(f"{i},{label}\n" for i, label in sorted(labels.items())))
    return path


@pytest.fixture
def tiny(tmp_path):
    members, labels = tiny_members()
    return {
        "members": members,
        "zip": write_zip(tmp_path / "real_or_drawing.zip", members),
        "labels": write_labels(tmp_path / "target_labels.csv", labels),
        "truth": labels,
        "tmp": tmp_path,
    }


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Runs write checkpoints/ and submissions/ here instead of the project folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("ROD_WORKDIR", str(work))
    return work


# Settings that make a run take seconds on CPU.
FAST = ["--width", "0.125", "--batch-size", "8", "--device", "cpu", "--save-every-s", "0", "--threads", "1"]
