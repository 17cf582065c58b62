"""Stage 7: checkpoints/<run>/report.md with learning curves, t-SNE of the features at the early,
mid and final checkpoints, the predicted class histogram, a confusion matrix (with labels), the
resolved config and the stage timings.

python -m stages.s07_report --run NAME [--report-points 1000]
"""
import json

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from stages.core import artifacts, plots, stage
from stages.core.errors import run_stage
from stages.core.predict import extract_features, predict_probs
from stages.core.train import CHECKPOINT_TAGS, load_model


def training_tables(cfg, paths, member=0):
    """metrics.csv of one member's training stages, in the order they ran."""
    dirs = paths.stage_dirs(member, cfg.pseudo_rounds)
    return {d.name: pd.read_csv(artifacts.metrics_path(d)) for d in dirs if artifacts.metrics_path(d).exists()}


def subsample(n, size, seed):
    return np.sort(np.random.default_rng(seed).choice(n, size=min(n, size), replace=False))


def embed(features, seed):
    """PCA to 50 dimensions, then 2-D t-SNE (seeded)."""
    reduced = PCA(n_components=min(50, *features.shape), random_state=seed).fit_transform(features)
    perplexity = max(2.0, min(30.0, (len(features) - 1) / 3))
    return TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(reduced)


def tsne_section(cfg, paths, data, target_labels, device):
    """t-SNE of member 0's DANN features at its early, mid and final checkpoints."""
    source_pick = subsample(len(data.source_y), cfg.report_points, cfg.seed)
    target_pick = subsample(len(data.target_x), cfg.report_points, cfg.seed + 1)
    source_x, target_x = data.source_x[source_pick], data.target_x[target_pick]
    embeddings = {}
    for tag in CHECKPOINT_TAGS:
        path = artifacts.checkpoint_path(paths.dann_dir(0), tag)
        if not path.exists():
            continue
        model, ckpt = load_model(path, device)
        features = np.concatenate([extract_features(model, source_x), extract_features(model, target_x)])
        target_classes = (target_labels[target_pick] if target_labels is not None
                          else predict_probs(model, target_x).argmax(1))
        classes = np.concatenate([data.source_y[source_pick].cpu().numpy(), target_classes])
        is_source = np.arange(len(features)) < len(source_pick)
        embeddings[f"{tag} (epoch {ckpt['epoch']})"] = (embed(features, cfg.seed), classes, is_source)
    if not embeddings:
        return []
    plots.tsne_panels(embeddings, paths.report_dir / "tsne.png")
    colour = "true class" if target_labels is not None else "predicted class"
    return ["## Features (t-SNE)", f"Member 0's DANN feature extractor; doodles coloured by {colour}; "
            f"{len(source_pick)} photos and {len(target_pick)} doodles.", "", "![t-SNE](report/tsne.png)", ""]


def prediction_section(paths, target_labels, num_classes):
    if not paths.ensemble_probs.exists():
        return ["(no predictions yet: run s05_ensemble)", ""]
    predicted = np.load(paths.ensemble_probs).argmax(1)
    counts = np.bincount(predicted, minlength=num_classes)
    plots.class_histogram(counts, paths.report_dir / "classes.png")
    lines = ["## Predictions", "Predicted classes against the uniform prior (the test set is balanced).", "",
             "![classes](report/classes.png)", ""]
    if target_labels is not None:
        matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(matrix, (target_labels, predicted), 1)
        plots.confusion(matrix, paths.report_dir / "confusion.png")
        accuracy = float((predicted == target_labels).mean())
        lines += [f"Target accuracy {accuracy:.4f} (labels used for this report only).", "",
                  "![confusion](report/confusion.png)", ""]
    return lines


def main(argv):
    cfg, paths = stage.start(argv, "s07_report")
    device = cfg.resolved_device()
    data = stage.load_data(cfg, paths, device)
    target_labels = stage.target_labels(cfg, data)
    lines = [f"# Run {cfg.run}", "", f"Preset `{cfg.preset}`; data `{cfg.data}`.", "", "![samples](samples.png)", ""]
    with stage.Timer(paths, "s07_report"):
        tables = training_tables(cfg, paths)
        if tables:
            plots.learning_curves(tables, paths.report_dir / "curves.png")
            lines += ["## Learning curves", "", "![curves](report/curves.png)", ""]
        lines += tsne_section(cfg, paths, data, target_labels, device)
        lines += prediction_section(paths, target_labels, data.num_classes)
    summary = artifacts.load_json(paths.summary) if paths.summary.exists() else {}
    lines += ["## Stage timings (seconds)", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds} |" for name, seconds in summary.get("stage_seconds", {}).items()]
    lines += ["", "## Resolved config", "", "```json", json.dumps(cfg.to_dict(), indent=2, sort_keys=True), "```", ""]
    artifacts.save_text(paths.report_md, "\n".join(lines))
    print(f"s07_report: {paths.report_md}")


if __name__ == "__main__":
    run_stage(main)
