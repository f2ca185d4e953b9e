"""Figures and tables the labs share: learning curves, image grids,
reported-vs-ours tables.

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

from . import findings
from .findings import mean_std  # noqa: F401  (labs call plots.mean_std)

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


def _as_runs(history) -> list[Mapping[str, Sequence[float]]]:
    """One history or a list of them (one per seed) → a list of dicts."""
    if isinstance(history, Mapping) or hasattr(history, "history"):
        history = [history]
    return [getattr(h, "history", h) for h in history]


def _mean_with_band(
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
            runs = _as_runs(history)
            for prefix, style, split in (
                ("", "--", "train"),
                ("val_", "-", "validation"),
            ):
                if prefix + metric not in runs[0]:
                    continue
                _mean_with_band(
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


def reported_vs_ours(rows: Sequence[Mapping], digits: int = 4):
    """The reported-vs-ours table, with verdicts, as a DataFrame.

    Kept for the labs not yet moved to :func:`findings.reported_vs_ours`, which also
    stores the table machine-readably for the reproduction summary.
    """
    return findings.frame(findings.compare(rows), digits)


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
        means = [v.mean() for v in values]
        stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
        centres = x + (i - (len(variants) - 1) / 2) * width
        bars = ax.bar(centres, means, width, yerr=stds, capsize=4, label=variant)
        ax.bar_label(bars, labels=[f"{m:.3f}" for m in means], padding=2, fontsize=8)
        if points:
            for centre, v in zip(centres, values):
                jitter = (
                    np.linspace(-0.25, 0.25, len(v)) * width
                    if len(v) > 1
                    else np.zeros(1)
                )
                ax.plot(centre + jitter, v, "o", color="black", markersize=3, alpha=0.6)
        for centre, group in zip(centres, groups):
            if reported and (group, variant) in reported:
                ax.hlines(
                    reported[group, variant],
                    centre - width * 0.45,
                    centre + width * 0.45,
                    colors="black",
                    linewidth=2.5,
                    label="reported" if "reported" not in _labels(ax) else None,
                )
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    if ylim is None:  # a fraction's axis ends at 1, with room above for the labels
        top = ax.get_ylim()[1]
        fraction = top <= 1.1
        ylim = (0.0, 1.12 if fraction else top * 1.08)
        if fraction:
            ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylim(*ylim)
    ax.set_title(title)
    n_labels = len(_labels(ax))
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncol=min(4, n_labels),
        frameon=False,
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def _labels(ax) -> list[str]:
    return ax.get_legend_handles_labels()[1]


def predicted_vs_true(
    y_true,
    y_pred,
    quantity: str,
    unit: str = "",
    title: str = "Predicted vs true",
    figsize=(5, 5),
    ax=None,
):
    """Scatter of predictions against true values with the diagonal y = x (a
    perfect model).

    ``quantity`` and ``unit`` label both axes, e.g. ``"median house value", "$1000s"``.
    """
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    low, high = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot(
        [low, high], [low, high], "--", color="grey", label="perfect prediction (y = x)"
    )
    ax.plot(y_true, y_pred, "o", markersize=3, alpha=0.6, label="test examples")
    unit = f" ({unit})" if unit else ""
    ax.set_xlabel(f"true {quantity}{unit}")
    ax.set_ylabel(f"predicted {quantity}{unit}")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.figure.tight_layout()
    return ax.figure


def ascent_grid(
    starts,
    results,
    column_titles: Sequence[str],
    row_labels: Sequence[str],
    title: str | None = None,
    show_change: bool = True,
    size: float = 1.25,
):
    """Images made by gradient ascent beside the images they started from.

    Row ``i`` shows ``starts[i]``, then ``results[i][j]`` for each column ``j`` (titled
    ``column_titles[j]``, e.g. a filter). Images are (H, W) grey or (H, W, 3) colour in
    [0, 1], drawn as they are (0 black, 1 white; no per-image rescaling).
    ``show_change`` adds under each row what the ascent added, ``result - start``,
    contrast-stretched the same way in every panel of the row (mid-grey: no change).
    """
    starts, results = np.asarray(starts), np.asarray(results)
    nrows, ncols = len(starts) * (2 if show_change else 1), results.shape[1] + 1
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False
    )
    grey = {"cmap": "gray"} if starts.ndim == 3 else {}
    for i, (start, row) in enumerate(zip(starts, results)):
        r = i * (2 if show_change else 1)
        panels = [(axes[r][0], start, "start")] + [
            (axes[r][j + 1], img, column_titles[j]) for j, img in enumerate(row)
        ]
        if show_change:
            panels += [
                (axes[r + 1][j + 1], d, "change")
                for j, d in enumerate(stretched_change(row, start))
            ]
            axes[r + 1][0].text(
                0.5,
                0.5,
                f"{row_labels[i]}:\nchange\n(stretched)",
                ha="center",
                va="center",
                transform=axes[r + 1][0].transAxes,
                fontsize=9,
            )
        for ax, image, caption in panels:
            ax.imshow(image, vmin=0, vmax=1, **grey)
            ax.set_title(caption, fontsize=9)
        axes[r][0].text(
            -0.08,
            0.5,
            row_labels[i],
            transform=axes[r][0].transAxes,
            ha="right",
            va="center",
        )
    for ax in axes.flat:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def stretched_change(results, start) -> np.ndarray:
    """What gradient ascent added to ``start`` (``results - start``), as images in
    [0, 1]: mid-grey is no change, and one contrast stretch for all ``results`` (the
    99.5th percentile of the change's size maps to black or white), so they compare."""
    change = np.asarray(results, dtype=float) - np.asarray(start, dtype=float)
    scale = 2 * max(np.percentile(np.abs(change), 99.5), 1e-8)
    return np.clip(0.5 + change / scale, 0, 1)


STATUS_COLOURS = {
    "converged": "tab:blue",
    "still rising": "tab:orange",
    "did not rise": "tab:red",
}


def flagged_grid(
    images,
    titles: Sequence[str],
    flagged: Sequence[bool],
    ncols: int = 8,
    title: str | None = None,
    size: float = 1.0,
    flag: str = "not converged",
):
    """:func:`image_grid` with the ``flagged`` images framed and captioned in red, so
    that an image which is no answer (an ascent that did not converge) is not read
    as one. Images are drawn as they are (no per-image stretching)."""
    fig = image_grid(images, titles, ncols=ncols, title=title, size=size)
    for ax, marked in zip(fig.axes, flagged):
        if marked:
            ax.add_patch(
                plt.Rectangle(
                    (0, 0),
                    1,
                    1,
                    transform=ax.transAxes,
                    fill=False,
                    edgecolor="tab:red",
                    linewidth=3,
                    clip_on=False,
                )
            )
            ax.title.set_color("tab:red")
    if any(flagged):
        fig.text(0.5, 0, f"red frame: {flag}", ha="center", va="top", color="tab:red")
    return fig


def ascent_curves(
    panels: Mapping[str, np.ndarray],
    statuses: Mapping[str, Sequence[str]],
    styles: Mapping[str, Sequence[str]] | None = None,
    title: str = "Gradient ascent",
    ylabel: str = "mean activation of the filter",
    size=(4.6, 3.4),
):
    """The objective against gradient-ascent steps: one panel per layer (at most two
    a row), one line per image, coloured by its ascent's status
    (:func:`helpers.gradients.convergence`). ``panels[name]`` is
    :attr:`Ascent.values`, ``(steps + 1, n_images)``; ``styles[name]``, optionally,
    a label per image drawn as a line style (the starting image, say)."""
    names = list(panels)
    ncols = min(2, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    dashes = ["-", "--", ":", "-."]
    kinds = list(dict.fromkeys(s for n in names for s in (styles or {}).get(n, [])))
    present = {s for n in names for s in statuses[n]}
    seen = [s for s in STATUS_COLOURS if s in present] + sorted(
        present - set(STATUS_COLOURS)
    )
    legend_rows = (len(seen) + len(kinds) - 1) // 4 + 1
    legend_height = 0.3 * legend_rows + 0.2  # inches, under the panels
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(size[0] * ncols, size[1] * nrows + legend_height),
        squeeze=False,
    )
    for ax, name in zip(axes.flat, names):
        values = np.asarray(panels[name])
        steps = np.arange(len(values))
        kind = (styles or {}).get(name, [None] * values.shape[1])
        for j, status in enumerate(statuses[name]):
            style = dashes[kinds.index(kind[j]) % 4] if kind[j] is not None else "-"
            colour = STATUS_COLOURS.get(status, "grey")
            ax.plot(steps, values[:, j], style, color=colour, linewidth=1, alpha=0.8)
        ax.set_title(name)
        ax.set_xlabel("gradient-ascent step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = [
        plt.Line2D([], [], color=STATUS_COLOURS.get(s, "grey"), label=s) for s in seen
    ] + [
        plt.Line2D([], [], color="black", linestyle=dashes[i % 4], label=f"from {k}")
        for i, k in enumerate(kinds)
    ]
    fig.legend(
        handles=handles, loc="lower center", ncol=min(4, len(handles)), frameon=False
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, legend_height / fig.get_figheight(), 1, 1))
    return fig


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


def plot_embedding(
    points,
    labels,
    class_names: Sequence[str],
    title: str,
    ax=None,
    line=None,
    note: str | None = None,
    size: float | None = None,
    legend: bool = True,
):
    """A 2-D map (e.g. t-SNE) of labelled points, one colour per class with a legend.

    ``line``: an object with ``y(x)`` and ``errors`` (e.g. ``embed.separating_line``),
    drawn across the panel; ``note``: a line of text under the title (e.g. a probe
    accuracy). t-SNE axes have no units, so their ticks are hidden. ``size``: the marker
    area (default: smaller for more points). Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    points, labels = np.asarray(points), np.asarray(labels)
    size = size or float(np.clip(15_000 / len(points), 2, 25))
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    for c, name in enumerate(class_names):
        mine = labels == c
        ax.scatter(
            points[mine, 0],
            points[mine, 1],
            s=size,
            color=colours(c % colours.N),
            label=name,
            alpha=0.8,
            linewidths=0,
        )
    if line is not None:
        x = np.array(ax.get_xlim())
        ax.plot(
            x,
            line.y(x),
            "k--",
            linewidth=1.2,
            label=f"linear separation ({line.errors} errors)",
        )
        ax.set_xlim(x)
        ax.set_ylim(points[:, 1].min() - 1, points[:, 1].max() + 1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_title(title if note is None else f"{title}\n{note}", fontsize=10)
    if legend:
        ax.legend(
            loc="best",
            fontsize=7,
            markerscale=max(1.0, 5 / np.sqrt(size)),
            framealpha=0.8,
            ncol=2 if len(class_names) > 5 else 1,
        )
    return ax


def curve_panels(
    panels: Mapping[str, Mapping[str, object]],
    metric: str = "val_accuracy",
    title: str = "Validation curves",
    ylabel: str = "validation accuracy",
    size=(4.6, 3.6),
):
    """One panel per family of runs, one curve per variant: ``panels[title][label]`` is
    one history or a list of them (one per seed; drawn as their mean with a band of ±
    one standard deviation). Each panel has its own legend, so families with different
    variants sit side by side."""
    fig, axes = plt.subplots(
        1, len(panels), figsize=(size[0] * len(panels), size[1]), squeeze=False
    )
    for ax, (panel, curves) in zip(axes[0], panels.items()):
        for label, history in curves.items():
            _mean_with_band(ax, _as_runs(history), metric, markersize=2, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_title(panel)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def legend_below(fig, ax, ncol: int = 5, markerscale: float = 3.0):
    """One legend for a figure of maps, under its panels (off the points), from the
    entries of ``ax``; a separating line is named without that panel's error count
    (each panel's title gives its own). Call after ``fig.tight_layout()``; returns the
    legend."""
    handles, labels = ax.get_legend_handles_labels()
    labels = [
        "best separating line" if label.startswith("linear separation") else label
        for label in labels
    ]
    fig.subplots_adjust(bottom=0.08 + 0.035 * -(-len(labels) // ncol))
    return fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=ncol,
        frameon=False,
        fontsize=9,
        markerscale=markerscale,
    )


def legend_under(ax, ncol: int = 5, markerscale: float = 3.0):
    """A panel's own legend, under it (off the points): for figures whose panels
    show different classes. Call before ``fig.tight_layout()``; returns the legend."""
    return ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.06),
        ncol=ncol,
        frameon=False,
        fontsize=8,
        markerscale=markerscale,
    )
