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
