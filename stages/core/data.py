"""Decode once into compact uint8 arrays; train from memory with batched, seeded augmentation."""
import hashlib
import io
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from . import artifacts
from .dataset import Layout
from .errors import UserError


def _decode(layout: Layout, name, mode, expected_size, digest):
    data = layout.read(name)
    digest.update(layout.relative(name).encode() + b"\0" + data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            size = image.size
            image = image.convert(mode)
    except Exception as error:  # PIL raises several types for corrupt or truncated files
        raise UserError(f"{layout.describe(name)} is not a readable image ({error}): re-extract or replace it") from None
    if expected_size is not None and size != expected_size:
        raise UserError(
            f"{layout.describe(name)} is {size[0]}x{size[1]} but the other images of its domain are "
            f"{expected_size[0]}x{expected_size[1]}: remove or resize it"
        )
    return image, size


def _resize(image, image_size):
    if image.size == (image_size, image_size):
        return image
    return image.resize((image_size, image_size), Image.BILINEAR)


def decode_layout(layout: Layout, image_size, canny_low, canny_high, progress=True):
    """Return every array the pipeline trains from, plus a manifest; raises UserError on any bad image."""
    digest = hashlib.sha256()
    rgb, gray, canny, labels = [], [], [], []
    source = [(c, name) for c, names in layout.source_files.items() for name in names]
    size = None
    for label, name in tqdm(source, desc="decode photos", unit="img", disable=None if progress else True):
        image, size = _decode(layout, name, "RGB", size, digest)
        image = _resize(image, image_size)
        gray_array = np.asarray(image.convert("L"))
        rgb.append(np.asarray(image))
        gray.append(gray_array)
        canny.append(cv2.Canny(gray_array, canny_low, canny_high))
        labels.append(label)
    source_size = size
    target, size = _decode_doodles(layout, image_size, digest, progress)
    arrays = {
        "source_rgb": np.stack(rgb),
        "source_gray": np.stack(gray),
        "source_canny": np.stack(canny),
        "source_labels": np.asarray(labels, dtype=np.int64),
        "target_gray": target,
        "target_ids": np.asarray(layout.target_ids, dtype=np.int64),
    }
    manifest = {
        "origin": layout.origin,
        "num_classes": layout.num_classes,
        "source_count": len(labels),
        "source_per_class": {str(c): len(n) for c, n in layout.source_files.items()},
        "source_image_size": list(source_size),
        "target_count": len(target),
        "target_image_size": list(size),
        "cached_image_size": image_size,
        "canny": [canny_low, canny_high],
        "content_sha256": digest.hexdigest(),
    }
    return arrays, manifest


def _decode_doodles(layout: Layout, image_size, digest, progress):
    """uint8 (N, image_size, image_size) grayscale doodles of layout.target_files, and their original size."""
    images, size = [], None
    for name in tqdm(layout.target_files, desc="decode doodles", unit="img", disable=None if progress else True):
        image, size = _decode(layout, name, "L", size, digest)
        images.append(np.asarray(_resize(image, image_size)))
    return np.stack(images), size


def decode_doodles(layout: Layout, image_size, progress=True):
    """uint8 (N, H, W) doodles of a labelled evaluation set, resized like the training target."""
    return _decode_doodles(layout, image_size, hashlib.sha256(), progress)[0]


def write_cache(paths: artifacts.RunPaths, arrays, manifest):
    for name, array in arrays.items():
        artifacts.save_array(paths.cache_array(name), array)
    # The manifest goes last: its presence means the cache is complete.
    artifacts.save_json(paths.manifest, manifest)


@dataclass
class DomainData:
    """Training tensors, kept as uint8 (N, 1, H, W) on the training device.

    source_val_x / source_val_y: photos held out of training (--source-holdout); empty without it.
    """

    source_x: torch.Tensor
    source_y: torch.Tensor
    target_x: torch.Tensor
    target_ids: np.ndarray
    num_classes: int
    source_val_x: torch.Tensor
    source_val_y: torch.Tensor


HOLDOUT_SEED = 20230  # one split per dataset, the same for every member, seed and stage


def holdout_split(labels, fraction):
    """Indices (train, held_out): round(fraction x n_c) photos of each class c, drawn with a fixed seed."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(HOLDOUT_SEED)
    held = [rng.permutation(np.flatnonzero(labels == c))[: int(round(fraction * (labels == c).sum()))]
            for c in np.unique(labels)]
    held = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), held), held


def load_cache(paths: artifacts.RunPaths, source_form, device, holdout=0.0) -> DomainData:
    manifest = artifacts.load_json(artifacts.require(paths.manifest, "s01_preprocess"))

    def array(name):
        return np.load(artifacts.require(paths.cache_array(name), "s01_preprocess"))

    def tensor(values):
        return torch.from_numpy(values).to(device)

    source_x, source_y = array(f"source_{source_form}")[:, None], array("source_labels")
    train, held = holdout_split(source_y, holdout)
    return DomainData(
        source_x=tensor(source_x[train]),
        source_y=tensor(source_y[train]),
        target_x=tensor(array("target_gray")[:, None]),
        target_ids=array("target_ids"),
        num_classes=manifest["num_classes"],
        source_val_x=tensor(source_x[held]),
        source_val_y=tensor(source_y[held]),
    )


def to_float(x_uint8):
    return x_uint8.float().div_(255.0)


def augment(x, generator, flip=True, rotate=0.0, translate=0.0, scale=0.0):
    """Random flip and affine warp for a whole batch at once; x is float (B, C, H, W)."""
    batch, device = x.shape[0], x.device

    def uniform(low, high):
        return torch.rand(batch, generator=generator, device=device) * (high - low) + low

    if flip:
        flipped = torch.rand(batch, generator=generator, device=device) < 0.5
        x = torch.where(flipped[:, None, None, None], x.flip(-1), x)
    if rotate or translate or scale:
        angle = uniform(-rotate, rotate) * (torch.pi / 180)
        zoom = uniform(1 - scale, 1 + scale)
        shift = torch.stack([uniform(-translate, translate), uniform(-translate, translate)], 1) * 2
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return x


def index_batches(n, steps, batch_size, generator, device):
    """steps x batch_size indices from fresh permutations of range(n), as many as needed."""
    need = steps * batch_size
    perms = [torch.randperm(n, generator=generator, device=device) for _ in range(-(-need // n))]
    return torch.cat(perms)[:need].view(steps, batch_size)


def read_target_labels(csv_path, target_ids, num_classes):
    """Target labels aligned with target_ids, for reporting only (never for training)."""
    if not csv_path:
        return None
    try:
        table = pd.read_csv(csv_path)
    except FileNotFoundError:
        raise UserError(f"{csv_path} does not exist: pass --target-labels with an id,label CSV or leave it out") from None
    except Exception as error:
        raise UserError(f"{csv_path} is not a readable CSV ({error}): it needs the header id,label") from None
    if list(table.columns[:2]) != ["id", "label"]:
        raise UserError(f"{csv_path} must start with the header id,label (found {','.join(map(str, table.columns))})")
    for column in ("id", "label"):
        if not pd.api.types.is_integer_dtype(table[column]):
            raise UserError(f"{csv_path}: column {column} must hold whole numbers only")
    if table["id"].duplicated().any():
        raise UserError(f"{csv_path}: id {table['id'][table['id'].duplicated()].iloc[0]} appears twice")
    if ((table["label"] < 0) | (table["label"] >= num_classes)).any():
        raise UserError(f"{csv_path}: labels must lie in 0..{num_classes - 1} (the classes of train_data)")
    by_id = dict(zip(table["id"].tolist(), table["label"].tolist()))
    missing = [i for i in target_ids.tolist() if i not in by_id]
    if missing:
        raise UserError(f"{csv_path} has no label for test id {missing[0]} ({len(missing)} missing): is it for this dataset?")
    return np.asarray([by_id[i] for i in target_ids.tolist()], dtype=np.int64)
