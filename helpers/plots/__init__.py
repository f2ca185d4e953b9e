"""Figures the labs share: learning curves (:mod:`.curves`), dot-and-interval
comparisons and bars (:mod:`.comparisons`), image grids and confusion matrices
(:mod:`.images`), in one house style (:mod:`.style`). Call them as ``plots.<name>``.
(What only one lab draws lives in :mod:`helpers.labs`.)

Histories are plain dicts of per-epoch lists in Keras' naming (``loss``, ``val_loss``,
``accuracy``, ``val_accuracy``), so Keras' ``History.history`` and the PyTorch loop's
history plot the same way.

The house style: every figure titled, axes labelled with what is plotted, at most two
panels a row, legends inside the figure and off the data, whole-epoch ticks, distinct
colours for many lines; close quantities (accuracies, losses) as dots and intervals
on an axis fitted to them (:func:`compare_runs`), bars only where zero matters
(:func:`compare_bars`).
"""

import pandas as pd

from .comparisons import compare_bars, compare_runs
from .curves import clip_spikes, epoch_axes, histories_of, mean_with_band, plot_history
from .images import (
    confusion_matrix,
    image_grid,
    misclassified_grid,
    most_confused,
    plot_confusion_matrix,
)
from .style import (
    AXIS_LABELS,
    LINE_STYLES,
    MARKERS,
    PALETTE,
    distinct_styles,
    legend_below_panels,
    legend_under_axes,
    metric_label,
    panel_grid,
    under_axes,
)

__all__ = [
    "AXIS_LABELS",
    "LINE_STYLES",
    "MARKERS",
    "PALETTE",
    "clip_spikes",
    "compare_bars",
    "compare_runs",
    "confusion_matrix",
    "distinct_styles",
    "epoch_axes",
    "histories_of",
    "image_grid",
    "legend_below_panels",
    "legend_under_axes",
    "mean_with_band",
    "metric_label",
    "misclassified_grid",
    "most_confused",
    "panel_grid",
    "under_axes",
    "plot_confusion_matrix",
    "plot_history",
]

# Tables in the book show every cell whole: pandas cuts text at 50 characters by
# default, which would cut the notes of a reported-vs-ours table in the stored
# (rendered) outputs.
pd.set_option("display.max_colwidth", None)
