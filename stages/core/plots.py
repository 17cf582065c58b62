"""PNG figures made with matplotlib (headless)."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import artifacts  # noqa: E402


def save_figure(fig, path):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    artifacts.save_bytes(path, buffer.getvalue())


def sample_grid(arrays, path, per_row=8, seed=0):
    """Rows per class: photos, their Canny form, and a row of random doodles at the bottom."""
    rng = np.random.default_rng(seed)
    labels = arrays["source_labels"]
    classes = sorted(set(labels.tolist()))
    rows = len(classes) * 2 + 1
    fig, axes = plt.subplots(rows, per_row, figsize=(per_row * 0.9, rows * 0.95))
    axes = np.atleast_2d(axes)
    for r, c in enumerate(classes):
        picks = rng.choice(np.flatnonzero(labels == c), size=min(per_row, int((labels == c).sum())), replace=False)
        for j in range(per_row):
            for k, (name, cmap) in enumerate((("source_rgb", None), ("source_canny", "gray"))):
                ax = axes[2 * r + k, j]
                ax.axis("off")
                if j < len(picks):
                    ax.imshow(arrays[name][picks[j]], cmap=cmap, vmin=0, vmax=255)
            axes[2 * r, 0].set_title(f"class {c}", fontsize=7, loc="left")
    doodles = rng.choice(len(arrays["target_gray"]), size=min(per_row, len(arrays["target_gray"])), replace=False)
    for j in range(per_row):
        ax = axes[-1, j]
        ax.axis("off")
        if j < len(doodles):
            ax.imshow(arrays["target_gray"][doodles[j]], cmap="gray", vmin=0, vmax=255)
    axes[-1, 0].set_title("doodles (unlabelled)", fontsize=7, loc="left")
    save_figure(fig, path)


LOSS_COLUMNS = ("class_loss", "domain_loss", "pseudo_loss", "mcc_loss")
ACCURACY_COLUMNS = ("source_acc", "domain_acc", "source_val_acc", "source_val_acc_ema", "target_acc", "target_acc_ema")


def learning_curves(tables, path):
    """tables: {stage name: metrics DataFrame}. Losses left, accuracies right, stages one after another."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    offset = 0
    for name, table in tables.items():
        epochs = table["epoch"] + offset
        for column in LOSS_COLUMNS:
            if column in table:
                left.plot(epochs, table[column], label=f"{name} {column}")
        for column in ACCURACY_COLUMNS:
            if column in table:  # evaluated columns have gaps when --eval-every > 1
                seen = table[column].notna()
                right.plot(epochs[seen], table[column][seen], marker=".", label=f"{name} {column}")
        offset = int(epochs.max())
    for ax, title in ((left, "losses"), (right, "accuracies (target only with --target-labels)")):
        ax.set_xlabel("epoch (stages in order)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
    save_figure(fig, path)


def class_histogram(counts, path):
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(range(len(counts)), counts, color="tab:blue", label="predicted")
    ax.axhline(sum(counts) / len(counts), color="tab:red", linestyle="--", label="uniform prior")
    ax.set_xlabel("class")
    ax.set_ylabel("doodles")
    ax.set_xticks(range(len(counts)))
    ax.legend()
    save_figure(fig, path)


def confusion(matrix, path):
    fig, ax = plt.subplots(figsize=(4.5, 4))
    shown = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(matrix)):
        for j in range(len(matrix)):
            ax.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=6,
                    color="white" if shown[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    save_figure(fig, path)


def tsne_panels(embeddings, path):
    """embeddings: {tag: (points (N, 2), class ids (N,), is_source (N,))}; a row per tag: by class, by domain."""
    fig, axes = plt.subplots(len(embeddings), 2, figsize=(9, 4.2 * len(embeddings)), squeeze=False)
    for row, (tag, (points, classes, is_source)) in enumerate(embeddings.items()):
        by_class, by_domain = axes[row]
        for domain, marker in ((True, "o"), (False, "x")):
            keep = is_source == domain
            by_class.scatter(points[keep, 0], points[keep, 1], c=classes[keep], cmap="tab10", vmin=0, vmax=9,
                             s=4, marker=marker, linewidths=0.5)
        by_domain.scatter(points[:, 0], points[:, 1], c=np.where(is_source, "tab:orange", "tab:blue"), s=3)
        by_class.set_title(f"{tag}: colour = class (o photos, x doodles)", fontsize=8)
        by_domain.set_title(f"{tag}: orange = photos, blue = doodles", fontsize=8)
        for ax in (by_class, by_domain):
            ax.set_xticks([])
            ax.set_yticks([])
    save_figure(fig, path)
