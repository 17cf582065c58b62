"""Images per second of the TA notebook's data path and training loop against ours, on this machine.

python -m bench.train_speed --data ZIP --out DIR [--steps 30] [--width 1.0]

(a) TA data path alone: ImageFolder over the unzipped data, per-item PIL/cv2 transforms, DataLoader
    with as many workers as cores, 32 source + 32 target per step, no model.
(b) our data path alone: the preprocess cache in memory, batched tensor augmentation.
(c) the TA notebook's DANN step (two optimiser steps) fed by (a).
(d) our DANN step (the pipeline's train_step) fed by (b).
(e) the same network's step alone on random tensors (the ceiling).
Writes DIR/speed.json and DIR/speed.md.
"""
import argparse
import json
import os
import platform
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

from stages.core import artifacts, config
from stages.core.data import decode_layout, load_cache, write_cache
from stages.core.dataset import open_layout
from stages.core.losses import domain_loss
from stages.core.models import build_model
from stages.core.predict import predict_probs
from stages.core.train import DomainStream, Precision, make_generator, train_step
from stages.s02_train_dann import dann_objective

BATCH = 32


def ta_loaders(root, workers):
    """The TA notebook's datasets and loaders, as published for HW11."""
    source_transform = T.Compose([
        T.Grayscale(),
        T.Lambda(lambda x: cv2.Canny(np.array(x), 170, 300)),
        T.ToPILImage(),
        T.RandomHorizontalFlip(),
        T.RandomRotation(15, fill=(0,)),
        T.ToTensor(),
    ])
    target_transform = T.Compose([
        T.Grayscale(),
        T.Resize((32, 32)),
        T.RandomHorizontalFlip(),
        T.RandomRotation(15, fill=(0,)),
        T.ToTensor(),
    ])
    source = ImageFolder(root / "train_data", transform=source_transform)
    target = ImageFolder(root / "test_data", transform=target_transform)
    kwargs = dict(batch_size=BATCH, shuffle=True, num_workers=workers, persistent_workers=workers > 0, drop_last=True)
    return DataLoader(source, **kwargs), DataLoader(target, **kwargs)


def endless(loader):
    while True:
        yield from loader


def ta_batches(source_loader, target_loader):
    for (xs, ys), (xt, _) in zip(endless(source_loader), endless(target_loader)):
        yield {"xs": xs, "ys": ys, "xt": xt}


def our_batches(stream, generator):
    while True:
        yield from stream.epoch(generator)


def rate(batches, steps, step_fn=None, warmup=3):
    """Images (source + target) per second over `steps` steps after `warmup` steps."""
    for _ in range(warmup):
        batch = next(batches)
        if step_fn:
            step_fn(batch)
    began = time.perf_counter()
    for _ in range(steps):
        batch = next(batches)
        if step_fn:
            step_fn(batch)
    return steps * 2 * BATCH / (time.perf_counter() - began)


def ta_step_fn(model, lamb=0.1):
    """The notebook's step: domain classifier on detached features, then CE - lamb * BCE for the rest."""
    opt_f = torch.optim.Adam(model.features.parameters())
    opt_c = torch.optim.Adam(model.classifier.parameters())
    opt_d = torch.optim.Adam(model.domain.parameters())

    def step(batch):
        mixed = torch.cat([batch["xs"], batch["xt"]])
        features = model.features(mixed)
        loss = domain_loss(model.domain(features.detach()), len(batch["xs"]))
        loss.backward()
        opt_d.step()
        class_logits = model.classifier(features[: len(batch["xs"])])
        loss = F.cross_entropy(class_logits, batch["ys"]) - lamb * domain_loss(model.domain(features), len(batch["xs"]))
        loss.backward()
        opt_f.step()
        opt_c.step()
        for opt in (opt_f, opt_c, opt_d):
            opt.zero_grad()

    return step


def our_step_fn(model, cfg):
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    precision = Precision(next(model.parameters()).device, cfg.amp)
    objective = dann_objective(cfg)
    return lambda batch: train_step(model, optimizer, precision, objective, batch, 0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="real_or_drawing.zip")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--width", type=float, default=1.0)
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    cfg = config.resolve(["--run", "bench", "--preset", "simple", "--width", str(args.width)])
    device = cfg.resolved_device()
    torch.set_num_threads(workers)
    results = {"machine": f"{platform.machine()}, {workers} cores, torch {torch.__version__}, device {device}",
               "width": args.width, "steps": args.steps, "batch": f"{BATCH} source + {BATCH} target"}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        began = time.perf_counter()
        arrays, manifest = decode_layout(open_layout(args.data), 32, 170, 300)
        paths = artifacts.RunPaths("bench", root_dir=scratch)
        write_cache(paths, arrays, manifest)
        results["preprocess_seconds"] = round(time.perf_counter() - began, 2)
        with zipfile.ZipFile(args.data) as archive:
            archive.extractall(scratch / "unzipped")
        ta_root = next((scratch / "unzipped").rglob("train_data")).parent
        data = load_cache(paths, "canny", device)
        stream = DomainStream(data, cfg)
        source_loader, target_loader = ta_loaders(ta_root, workers)

        results["ta_data_img_per_s"] = rate(ta_batches(source_loader, target_loader), args.steps * 3)
        results["cache_data_img_per_s"] = rate(our_batches(stream, make_generator(0, device)), args.steps * 3)
        torch.manual_seed(0)
        results["ta_loop_img_per_s"] = rate(ta_batches(source_loader, target_loader), args.steps,
                                            ta_step_fn(build_model(data.num_classes, args.width)))
        torch.manual_seed(0)
        model = build_model(data.num_classes, args.width).to(device)
        results["cache_loop_img_per_s"] = rate(our_batches(stream, make_generator(0, device)), args.steps,
                                               our_step_fn(model, cfg))
        fixed = {"xs": torch.rand(BATCH, 1, 32, 32, device=device), "ys": torch.randint(0, data.num_classes, (BATCH,), device=device),
                 "xt": torch.rand(BATCH, 1, 32, 32, device=device)}
        torch.manual_seed(0)
        results["model_only_img_per_s"] = rate(iter(lambda: fixed, None), args.steps,
                                               our_step_fn(build_model(data.num_classes, args.width).to(device), cfg))
        began = time.perf_counter()
        predict_probs(model, data.target_x, tta_flip=False)
        results["inference_img_per_s"] = len(data.target_x) / (time.perf_counter() - began)
    for key, value in results.items():
        if key.endswith("_per_s"):
            results[key] = round(value, 1)
    write_report(results, args.out)


def write_report(results, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed.json").write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        ("(a) TA data path alone", "ta_data_img_per_s"),
        ("(b) our data path alone", "cache_data_img_per_s"),
        ("(c) TA DANN loop (fed by a)", "ta_loop_img_per_s"),
        ("(d) our DANN loop (fed by b)", "cache_loop_img_per_s"),
        ("(e) model step alone (ceiling)", "model_only_img_per_s"),
        ("inference on the target", "inference_img_per_s"),
    ]
    lines = ["| path | images/s |", "|---|---|"] + [f"| {name} | {results[key]:,.0f} |" for name, key in rows]
    lines += [
        f"| preprocess, whole dataset | {results['preprocess_seconds']} s |",
        "",
        f"(b)/(a) = {results['cache_data_img_per_s'] / results['ta_data_img_per_s']:.1f}, "
        f"(d)/(c) = {results['cache_loop_img_per_s'] / results['ta_loop_img_per_s']:.2f}, "
        f"(d)/(e) = {results['cache_loop_img_per_s'] / results['model_only_img_per_s']:.2f}",
        f"Machine: {results['machine']}; network width {results['width']}; {results['batch']} per step.",
    ]
    (out / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
