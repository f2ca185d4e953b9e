"""Learning curves: train vs validation, mean ± std over seeds, and spikes left off
the axis with a note instead of flattening the other curves."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from .style import (
    AXIS_LABELS,
    MARKERS,
    SPLITS,
    distinct_styles,
    legend_below_panels,
    panel_grid,
    under_axes,
)


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
    plot_kw.setdefault("marker", "o")
    (line,) = ax.plot(epochs, mean, style, markersize=markersize, **plot_kw)
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


def epoch_axes(ax, ylabel: str, log_y: bool = False) -> None:
    """Label a learning-curve panel: whole epochs along x, ``ylabel`` up y."""
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)


def plot_history(
    histories: Mapping[str, object],
    metrics=("loss", "accuracy"),
    title: str = "Learning curves",
    figsize=(11, 4),
    ylabels: Mapping[str, str] | None = None,
    log_y: bool = False,
    clip: bool = True,
):
    """Train (dashed) vs validation (solid) curves, one panel per metric (at most two
    a row; ``figsize`` is one row's), one colour per run.

    ``histories`` maps a label to one history or to a list of histories (one per seed):
    several seeds draw their mean with a band of ± one standard deviation. ``ylabels``
    overrides the axis label of a metric (``{"loss": "loss (mean squared error)"}``);
    ``log_y`` uses a log scale. ``clip``: a spike far off every other value (one seed
    diverging for an epoch) is left above or below the axis and noted on it
    (:func:`clip_spikes`), so it does not flatten the other curves.
    """
    ylabels = {**AXIS_LABELS, **(ylabels or {})}
    fig, axes = panel_grid(len(metrics), figsize)
    looks = distinct_styles(len(histories), MARKERS)
    for ax, metric in zip(axes, metrics):
        drawn = {}
        for (colour, marker), (label, history) in zip(looks, histories.items()):
            runs = histories_of(history)
            for prefix, style, split in SPLITS:
                if prefix + metric not in runs[0]:
                    continue
                mean_with_band(
                    ax,
                    runs,
                    prefix + metric,
                    style,
                    color=colour,
                    marker=marker,
                    label=f"{label} ({split})",
                )
                drawn[f"{label}, {split}"] = [run[prefix + metric] for run in runs]
        epoch_axes(ax, ylabels.get(metric, metric), log_y)
        ax.set_title(ylabels.get(metric, metric).split(" (")[0].capitalize())
        if clip:
            clip_spikes(ax, drawn, log_y)
    fig.suptitle(title)
    legend_below_panels(fig, *axes[0].get_legend_handles_labels())
    return fig


def _kept_range(values: np.ndarray, factor: float = 2.0, share: float = 0.1):
    """The range of ``values`` without isolated extremes: the top (bottom) ``k``
    values are left out when the gap between them and the rest is more than
    ``factor`` times the rest's span (``k`` at most ``share`` of the values; the
    largest such ``k``)."""
    v = np.sort(values)
    low, high, most = 0, len(v) - 1, int(share * len(v))
    for k in range(most, 0, -1):
        if v[-k] - v[-k - 1] > factor * (v[-k - 1] - v[0]):
            high = len(v) - 1 - k
            break
    for k in range(most, 0, -1):
        if v[k] - v[k - 1] > factor * (v[high] - v[k]):
            low = k
            break
    return v[low], v[high]


def clip_spikes(ax, curves: Mapping[str, Sequence[Sequence[float]]], log_y=False):
    """Fit ``ax``'s y axis to ``curves`` (``{name: [values per epoch, per run]}``)
    without their spikes, and note each spike under the axes ("1 point above the
    axis: 6.4 (b, validation, epoch 5, run 2 of 3)"). A spike is a value far off all
    the others (:func:`_kept_range`); a curve's first epoch is its start, not a
    spike, when all its runs share it. Returns the notes (none: the axis is left
    as it is)."""
    scale = np.log10 if log_y else (lambda v: v)
    arrays = {name: np.asarray(runs, dtype=float) for name, runs in curves.items()}
    every = np.concatenate([a.ravel() for a in arrays.values()] or [np.zeros(0)])
    every = every[np.isfinite(every) & ((every > 0) if log_y else True)]
    if len(every) < 10:
        return []
    low, high = (10**x if log_y else x for x in _kept_range(scale(every)))
    notes, kept = [], []
    for name, runs in arrays.items():
        off = (runs > high) | (runs < low)
        if off[:, 0].all():  # a start shared by all runs, not a spike
            off[:, 0] = False
        notes += [
            (runs[r, e], name, e + 1, r + 1, len(runs))
            for r, e in zip(*np.nonzero(off))
        ]
        fine = ~off.any(axis=0)
        mean, std = runs.mean(axis=0)[fine], runs.std(axis=0)[fine]
        kept += [mean - std, mean + std, runs[:, fine].ravel()]
    if notes:
        _fit_axis(ax, np.concatenate(kept), log_y)
        _note_spikes(ax, notes, high)
    return notes


def _fit_axis(ax, values: np.ndarray, log_y: bool) -> None:
    """The y axis just around ``values`` (5% margin; multiplicative on a log axis)."""
    values = values[np.isfinite(values) & ((values > 0) if log_y else True)]
    low, high = values.min(), values.max()
    if log_y:
        margin = (high / low) ** 0.05
        ax.set_ylim(low / margin, high * margin)
    else:
        margin = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
        ax.set_ylim(low - margin, high + margin)


def _note_spikes(ax, notes, high: float) -> None:
    """Write under the axes what lies beyond them: '2 points above the axis: ...'."""
    lines = []
    for side, mine in (
        ("above", [n for n in notes if n[0] > high]),
        ("below", [n for n in notes if n[0] <= high]),
    ):
        if mine:
            shown = "; ".join(
                f"{v:.3g} ({name}, epoch {e}, run {r} of {n})"
                for v, name, e, r, n in mine[:2]
            )
            more = f"; {len(mine) - 2} more" if len(mine) > 2 else ""
            points = "1 point" if len(mine) == 1 else f"{len(mine)} points"
            lines.append(f"{points} {side} the axis: {shown}{more}")
    chars = int(ax.get_window_extent().width / ax.figure.dpi * 72 / 4)
    ax.text(
        0.5,
        0.0,
        "\n".join(textwrap.fill(line, max(chars, 30)) for line in lines),
        transform=under_axes(ax),
        ha="center",
        va="top",
        fontsize=7.5,
        color="0.25",
    )
