"""Figures the labs share: learning curves, grouped bars, image grids, confusion
matrices. (What only one lab draws lives in :mod:`helpers.labs`.)

Histories are plain dicts of per-epoch lists in Keras' naming (``loss``, ``val_loss``,
``accuracy``, ``val_accuracy``), so Keras' ``History.history`` and the PyTorch loop's
history plot the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ._moved import moved

# Tables in the book show every cell whole: pandas cuts text at 50 characters by
# default, which would cut the notes of a reported-vs-ours table in the stored
# (rendered) outputs.
pd.set_option("display.max_colwidth", None)

AXIS_LABELS = {
    "loss": "loss (cross-entropy)",
    "accuracy": "accuracy",
    "mse": "mean squared error",
    "mae": "mean absolute error",
}


def histories_of(history) -> list[Mapping[str, Sequence[float]]]:
    """One history or a list of them (one per seed) → a list of dicts."""
    if isinstance(history, Mapping) or hasattr(history, "history"):
        history = [history]
    return [getattr(h, "history", h) for h in history]


def mean_with_band(
    ax, runs, key: str, style: str = "-", markersize: float = 3, **plot_kw
):
    """Draw the mean over ``runs`` of ``run[key]`` per epoch, with a band of ± one
    standard deviation when there are several runs; returns the line."""
    curves = np.array([run[key] for run in runs], dtype=float)
    epochs = np.arange(1, curves.shape[1] + 1)
    mean = curves.mean(axis=0)
    (line,) = ax.plot(epochs, mean, style, marker="o", markersize=markersize, **plot_kw)
    if len(runs) > 1:
        std = curves.std(axis=0)
        ax.fill_between(
            epochs,
            mean - std,
            mean + std,
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    return line


def plot_history(
    histories: Mapping[str, object],
    metrics=("loss", "accuracy"),
    title: str = "Learning curves",
    figsize=(11, 4),
    ylabels: Mapping[str, str] | None = None,
    log_y: bool = False,
):
    """Train (dashed) vs validation (solid) curves, one panel per metric, one colour
    per run.

    ``histories`` maps a label to one history or to a list of histories (one per seed):
    several seeds draw their mean with a band of ± one standard deviation. ``ylabels``
    overrides the axis label of a metric (``{"loss": "loss (mean squared error)"}``);
    ``log_y`` uses a log scale.
    """
    ylabels = {**AXIS_LABELS, **(ylabels or {})}
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for colour, (label, history) in zip(
            plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4, histories.items()
        ):
            runs = histories_of(history)
            for prefix, style, split in (
                ("", "--", "train"),
                ("val_", "-", "validation"),
            ):
                if prefix + metric not in runs[0]:
                    continue
                mean_with_band(
                    ax,
                    runs,
                    prefix + metric,
                    style,
                    color=colour,
                    label=f"{label} ({split})",
                )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabels.get(metric, metric))
        ax.set_title(ylabels.get(metric, metric).split(" (")[0].capitalize())
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(4, len(labels)),
        frameon=False,
        bbox_to_anchor=(0.5, -0.02 - 0.06 * ((len(labels) - 1) // 4)),
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.08 + 0.06 * ((len(labels) - 1) // 4), 1, 1))
    return fig


def image_grid(
    images,
    titles=None,
    ncols: int = 8,
    title: str | None = None,
    cmap="gray",
    size: float = 1.4,
    row_labels: Sequence[str] | None = None,
):
    """Show images in a grid (axes off), with an optional caption over each one and a
    label left of each row (``row_labels``)."""
    images = np.asarray(images)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows * (1.3 if titles is not None else 1)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap if images[i].ndim == 2 else None)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    for row, label in enumerate(row_labels or []):
        axes[row][0].text(
            -0.1, 0.5, label, transform=axes[row][0].transAxes, ha="right", va="center"
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_bars(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    ylabel: str = "test accuracy",
    title: str = "",
    ylim=None,
    figsize=(7, 4),
    points: bool = False,
    reported: Mapping[tuple[str, str], float] | None = None,
):
    """Grouped bars of mean ± std from zero:
    ``results[group][variant] = [value per seed]``.

    ``points=True`` also draws every value (each seed, or each fold) as a dot on its
    bar; ``reported[group, variant]`` draws a report's value as a black mark across its
    bar. The legend sits under the axes, off the data.
    """
    groups = list(results)
    variants = list(dict.fromkeys(v for g in groups for v in results[g]))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=figsize)
    x = np.arange(len(groups))
    for i, variant in enumerate(variants):
        values = [
            np.asarray(results[g].get(variant, [np.nan]), dtype=float) for g in groups
        ]
        centres = x + (i - (len(variants) - 1) / 2) * width
        _bars(ax, centres, values, variant, width, points)
        for centre, group in zip(centres, groups):
            if reported and (group, variant) in reported:
                _reported_mark(ax, reported[group, variant], centre, width)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    _bar_axis_limits(ax, ylim)
    ax.set_title(title)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncol=min(4, len(_labels(ax))),
        frameon=False,
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _bars(ax, centres, values, variant: str, width: float, points: bool) -> None:
    """One variant's bars (mean ± sample std, the mean written above), and with
    ``points`` every value as a dot."""
    means = [v.mean() for v in values]
    stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
    bars = ax.bar(centres, means, width, yerr=stds, capsize=4, label=variant)
    ax.bar_label(bars, labels=[f"{m:.3f}" for m in means], padding=2, fontsize=8)
    if points:
        for centre, v in zip(centres, values):
            spread = np.linspace(-0.25, 0.25, len(v)) if len(v) > 1 else np.zeros(1)
            ax.plot(
                centre + spread * width, v, "o", color="black", markersize=3, alpha=0.6
            )


def _reported_mark(ax, value: float, centre: float, width: float) -> None:
    """A report's value as a black mark across its bar (one "reported" legend
    entry)."""
    ax.hlines(
        value,
        centre - width * 0.45,
        centre + width * 0.45,
        colors="black",
        linewidth=2.5,
        label="reported" if "reported" not in _labels(ax) else None,
    )


def _bar_axis_limits(ax, ylim) -> None:
    """``ylim``, or from zero: a fraction's axis ends at 1, with room above for the
    value labels."""
    if ylim is None:
        top = ax.get_ylim()[1]
        fraction = top <= 1.1
        ylim = (0.0, 1.12 if fraction else top * 1.08)
        if fraction:
            ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylim(*ylim)


def _labels(ax) -> list[str]:
    return ax.get_legend_handles_labels()[1]


# --- Classification errors ------------------------------------------------------------
def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]``: examples of true class ``i`` predicted as class ``j``
    (rows: truth)."""
    y_true, y_pred = (
        np.asarray(y_true, dtype=np.int64).ravel(),
        np.asarray(y_pred, dtype=np.int64).ravel(),
    )
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions.")
    n = n_classes or int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    return np.bincount(n * y_true + y_pred, minlength=n * n).reshape(n, n)


def most_confused(
    matrix, class_names: Sequence[str] | None = None, k: int = 5
) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells of a confusion matrix, as (true,
    predicted, count), largest first (ties in row-major order); cells with no errors
    are left out."""
    matrix = np.asarray(matrix)
    names = (
        list(class_names)
        if class_names is not None
        else [str(i) for i in range(len(matrix))]
    )
    errors = matrix * (1 - np.eye(len(matrix), dtype=matrix.dtype))
    order = np.argsort(-errors, axis=None, kind="stable")[:k]
    return [
        (names[i], names[j], int(errors[i, j]))
        for i, j in zip(*np.unravel_index(order, matrix.shape))
        if errors[i, j] > 0
    ]


def plot_confusion_matrix(
    matrix,
    class_names: Sequence[str],
    title: str = "Confusion matrix",
    figsize=(6.5, 5.5),
    ax=None,
):
    """A confusion matrix as a heat map of the share of each true class (rows sum to 1),
    with the counts written in the cells; the diagonal (correct) is left out of the
    colour scale, so the errors stay visible."""
    matrix = np.asarray(matrix)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    off = np.where(np.eye(len(matrix), dtype=bool), np.nan, shares)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    vmax = max(np.nanmax(off) if np.isfinite(off).any() else 0, 1e-9)
    image = ax.imshow(off, cmap="Reds", vmin=0, vmax=vmax)
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            colour = (
                "tab:blue" if i == j else "white" if off[i, j] > 0.6 * vmax else "black"
            )
            ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color=colour,
                fontweight="bold" if i == j else None,
            )
    ax.set_xticks(
        range(len(matrix)),
        class_names,
        rotation=45 if max(map(len, class_names)) > 2 else 0,
        ha="right" if max(map(len, class_names)) > 2 else "center",
    )
    ax.set_yticks(range(len(matrix)), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    ax.figure.colorbar(
        image, ax=ax, label="share of the true class (errors only)", shrink=0.8
    )
    ax.figure.tight_layout()
    return ax.figure


def misclassified_grid(
    images,
    y_true,
    y_pred,
    class_names: Sequence[str],
    n: int = 24,
    ncols: int = 8,
    title: str | None = None,
    seed: int | None = 0,
    size: float = 1.4,
):
    """A grid of up to ``n`` misclassified images captioned "true → predicted".

    ``seed``: a seeded random choice among the errors (``None``: the first ``n``).
    Images are (N, H, W) grey or (N, H, W, 3) colour in [0, 1] or uint8.
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    wrong = np.flatnonzero(y_true != y_pred)
    if seed is not None and len(wrong) > n:
        wrong = np.sort(np.random.default_rng(seed).choice(wrong, n, replace=False))
    wrong = wrong[:n]
    if not len(wrong):
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return fig
    titles = [f"{class_names[y_true[i]]} → {class_names[y_pred[i]]}" for i in wrong]
    return image_grid(
        np.asarray(images)[wrong],
        titles,
        ncols=ncols,
        size=size,
        title=title
        or (
            f"{len(wrong)} of {int((y_true != y_pred).sum())} misclassified "
            "(true → predicted)"
        ),
    )


# --- Moved, kept for the pages until their lab issue (transitional) -------------------
MOVED = {
    "ascent_curves": "helpers.labs.filter_visualisation",
    "flagged_grid": "helpers.labs.filter_visualisation",
    "stretched_change": "helpers.labs.filter_visualisation",
    "plot_embedding": "helpers.labs.tsne",
    "legend_below": "helpers.labs.tsne",
    "legend_under": "helpers.labs.tsne",
    "curve_panels": "helpers.labs.augmentation_ablation",
    "predicted_vs_true": "helpers.labs.keras_basics",
}
__getattr__ = moved(__name__, MOVED)
