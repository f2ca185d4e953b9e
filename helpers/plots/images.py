"""Images in a grid, and what a classifier got wrong: confusion matrices, the most
frequent confusions, misclassified images."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


def image_grid(
    images,
    titles=None,
    ncols: int = 8,
    title: str | None = None,
    cmap="gray",
    size: float = 1.4,
    row_labels: Sequence[str] | None = None,
):
    """Show images in a grid, with an optional caption over each one and a label left
    of each row (``row_labels``). Each image has a thin grey frame, so that one as
    white (or black) as the page still shows where it is."""
    images = np.asarray(images)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size * ncols, size * nrows * (1.3 if titles is not None else 1)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        if i >= len(images):
            ax.axis("off")
            continue
        ax.imshow(images[i], cmap=cmap if images[i].ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set(color="0.55", linewidth=0.8)
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
