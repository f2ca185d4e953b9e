"""Figures and tables the labs share: learning curves, image grids, reported-vs-ours tables.

Histories are plain dicts of per-epoch lists in Keras' naming (``loss``, ``val_loss``,
``accuracy``, ``val_accuracy``), so Keras' ``History.history`` and the PyTorch loop's history
plot the same way.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

AXIS_LABELS = {"loss": "loss (cross-entropy)", "accuracy": "accuracy", "mse": "mean squared error",
               "mae": "mean absolute error"}


def _as_runs(history) -> list[Mapping[str, Sequence[float]]]:
    """One history or a list of them (one per seed) → a list of dicts."""
    if isinstance(history, Mapping) or hasattr(history, "history"):
        history = [history]
    return [getattr(h, "history", h) for h in history]


def plot_history(histories: Mapping[str, object], metrics=("loss", "accuracy"), title: str = "Learning curves",
                 figsize=(11, 4)):
    """Train (dashed) vs validation (solid) curves, one panel per metric, one colour per run.

    ``histories`` maps a label to one history or to a list of histories (one per seed): several
    seeds draw their mean with a band of ± one standard deviation.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for colour, (label, history) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4,
                                            histories.items()):
            runs = _as_runs(history)
            for prefix, style, split in (("", "--", "train"), ("val_", "-", "validation")):
                if prefix + metric not in runs[0]:
                    continue
                curves = np.array([run[prefix + metric] for run in runs], dtype=float)
                epochs = np.arange(1, curves.shape[1] + 1)
                mean = curves.mean(axis=0)
                ax.plot(epochs, mean, style, color=colour, marker="o", markersize=3, label=f"{label} ({split})")
                if len(runs) > 1:
                    std = curves.std(axis=0)
                    ax.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.15, linewidth=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(AXIS_LABELS.get(metric, metric))
        ax.set_title(AXIS_LABELS.get(metric, metric).split(" (")[0].capitalize())
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False,
               bbox_to_anchor=(0.5, -0.02 - 0.06 * ((len(labels) - 1) // 4)))
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08 + 0.06 * ((len(labels) - 1) // 4), 1, 1))
    return fig


def image_grid(images, titles=None, ncols: int = 8, title: str | None = None, cmap="gray", size: float = 1.4):
    """Show images in a grid (axes off), with an optional caption under each one."""
    images = np.asarray(images)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * (1.3 if titles is not None else 1)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap if images[i].ndim == 2 else None)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def mean_std(values: Sequence[float], digits: int = 4) -> str:
    """``'0.9712 ± 0.0012 (n=3)'``; a single value is shown alone with n=1."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (n=1)"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f} (n={len(values)})"


def reported_vs_ours(rows: Sequence[Mapping], digits: int = 4):
    """A table putting each reported number beside ours (mean ± sample std over seeds).

    Each row: ``experiment``, ``report`` (tag such as "R3"), ``reported`` (number or None),
    ``ours`` (list of values, one per seed) and optionally ``note`` (e.g. a data substitution).
    """
    import pandas as pd

    table = []
    for row in rows:
        ours = np.asarray(row["ours"], dtype=float)
        reported = row.get("reported")
        table.append({
            "experiment": row["experiment"],
            "report": row.get("report", ""),
            "reported": "—" if reported is None else f"{reported:g}",
            "ours (mean ± std)": mean_std(ours, digits),
            "difference": "—" if reported is None else f"{ours.mean() - reported:+.{digits}f}",
            "note": row.get("note", ""),
        })
    frame = pd.DataFrame(table).set_index("experiment")
    if not frame["note"].astype(bool).any():
        frame = frame.drop(columns="note")
    return frame


def compare_bars(results: Mapping[str, Mapping[str, Sequence[float]]], ylabel: str = "test accuracy",
                 title: str = "", ylim=None, figsize=(7, 4)):
    """Grouped bars of mean ± std: ``results[group][variant] = [value per seed]``."""
    groups = list(results)
    variants = list(dict.fromkeys(v for g in groups for v in results[g]))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=figsize)
    x = np.arange(len(groups))
    for i, variant in enumerate(variants):
        values = [np.asarray(results[g].get(variant, [np.nan]), dtype=float) for g in groups]
        means = [v.mean() for v in values]
        stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
        bars = ax.bar(x + (i - (len(variants) - 1) / 2) * width, means, width, yerr=stds, capsize=4, label=variant)
        ax.bar_label(bars, labels=[f"{m:.3f}" for m in means], padding=2, fontsize=8)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    if ylim is None:  # zoom in on the bars' range, so small differences stay visible
        low = min(np.nanmin(np.asarray(results[g][v], dtype=float)) for g in groups for v in results[g])
        ylim = (max(0.0, low - 0.1 * (1 - low) - 0.02), min(1.0, ax.get_ylim()[1]) if low > 0 else ax.get_ylim()[1])
    ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
