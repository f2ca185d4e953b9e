"""The house style every figure shares: what axes say, distinct colours for many
lines, at most two panels a row, and legends inside the figure, off the data."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.transforms import ScaledTranslation

AXIS_LABELS = {
    "loss": "loss (cross-entropy)",
    "accuracy": "accuracy",
    "mse": "mean squared error",
    "mae": "mean absolute error",
}
PALETTE = tuple(plt.get_cmap("tab10").colors)
"""A qualitative palette (matplotlib's tab10): one distinct colour a line."""
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
SPLITS = (("", "--", "train"), ("val_", "-", "validation"))
"""Each split of a history: its key prefix, its line style, its name."""


def metric_label(key: str) -> str:
    """An axis label for a history key: ``'val_accuracy'`` → ``'validation
    accuracy'``, ``'loss'`` → ``'training loss (cross-entropy)'``."""
    split, metric = (
        ("validation", key[4:]) if key.startswith("val_") else ("training", key)
    )
    return f"{split} {AXIS_LABELS.get(metric, metric)}"


def distinct_styles(n: int, styles: Sequence[str] = LINE_STYLES) -> list[tuple]:
    """``n`` distinct (colour, style) pairs for ``n`` lines: the palette's colours
    with the first of ``styles``, then again with the next one, and so on (a line
    style or a marker)."""
    k = len(PALETTE)
    return [(PALETTE[i % k], styles[i // k % len(styles)]) for i in range(n)]


def panel_grid(n: int, figsize, **subplots_kw):
    """A figure of ``n`` panels, at most two a row (more rows, never wider ones):
    ``figsize`` is one row's size. Returns the figure and its ``n`` axes, in reading
    order (cells left over are removed)."""
    ncols = min(2, max(n, 1))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(figsize[0], figsize[1] * nrows),
        squeeze=False,
        **subplots_kw,
    )
    for ax in axes.flat[n:]:
        ax.remove()
    return fig, list(axes.flat[:n])


# --- Legends inside the figure --------------------------------------------------------
def _renderer(fig):
    """The renderer that measures text (Agg's, as in Jupyter and Colab)."""
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get else fig._get_renderer()  # other canvases: as tight_layout


def _fitted_legend(make, width: float, ncol: int):
    """``make(n)``, a legend in ``n`` columns, with the most columns (at most
    ``ncol``) that keep it within ``width`` pixels."""
    for n in range(max(ncol, 1), 0, -1):
        legend = make(n)
        if n == 1 or legend.get_window_extent(_renderer(legend.figure)).width <= width:
            return legend
        legend.remove()


def legend_below_panels(fig, handles, labels, ncol: int = 4, **legend_kw):
    """One legend for a whole figure, centred under its panels and inside the
    figure's width (fewer columns where ``ncol`` would not fit); lays the panels out
    above it. Call once the panels are drawn; returns the legend."""
    legend = _fitted_legend(
        lambda n: fig.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=n,
            frameon=False,
            **legend_kw,
        ),
        0.98 * fig.bbox.width,
        ncol,
    )
    height = legend.get_window_extent(_renderer(fig)).height / fig.bbox.height
    fig.tight_layout(rect=(0, height + 0.01, 1, 1))
    return legend


def legend_under_axes(ax, handles=None, labels=None, ncol: int = 4, **legend_kw):
    """A legend centred under ``ax``, below its tick labels and axis label (off the
    data), in as many columns (at most ``ncol``) as fit the axes' width. Call before
    ``fig.tight_layout()``, which makes room for it; returns the legend."""
    entries = () if handles is None else (handles, labels)
    under = under_axes(ax)
    return _fitted_legend(
        lambda n: ax.legend(
            *entries,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            bbox_transform=under,
            ncol=n,
            frameon=False,
            **legend_kw,
        ),
        ax.get_window_extent(_renderer(ax.figure)).width,
        ncol,
    )


def under_axes(ax, gap: float = 4):
    """A transform for what goes under ``ax``: axes coordinates moved down past its
    tick labels and axis label (and ``gap`` pixels more), however the layout later
    resizes the axes."""
    renderer = _renderer(ax.figure)
    drop = ax.get_window_extent(renderer).y0 - ax.get_tightbbox(renderer).y0 + gap
    shift = ScaledTranslation(0, -drop / ax.figure.dpi, ax.figure.dpi_scale_trans)
    return ax.transAxes + shift
