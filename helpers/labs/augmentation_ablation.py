"""The augmentation-ablation lab's own figure: the validation curves of each family of
steps, one panel per family (``ablation.Result.family`` gives them).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from ..plots import (
    distinct_styles,
    epoch_axes,
    histories_of,
    mean_with_band,
    metric_label,
    panel_grid,
)


def curve_panels(
    panels: Mapping[str, Mapping[str, object]],
    metric: str = "val_accuracy",
    title: str = "Validation curves",
    ylabel: str | None = None,
    size=(4.6, 3.6),
):
    """One panel per family of runs (at most two a row), one curve per variant, each
    in a colour and style of its own: ``panels[title][label]`` is one history or a
    list of them (one per seed; drawn as their mean with a band of ± one standard
    deviation). Each panel has its own legend, so families with different variants
    sit side by side. ``ylabel``: default, the metric's name
    (:func:`plots.metric_label`)."""
    fig, axes = panel_grid(len(panels), (size[0] * min(2, len(panels)), size[1]))
    for ax, (panel, curves) in zip(axes, panels.items()):
        looks = distinct_styles(len(curves))
        for (colour, style), (label, history) in zip(looks, curves.items()):
            runs = histories_of(history)
            mean_with_band(
                ax, runs, metric, style, markersize=2, color=colour, label=label
            )
        epoch_axes(ax, ylabel or metric_label(metric))
        ax.set_title(panel)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


CUADRO_3 = (
    ("Conv2D", 30, 32),
    ("Batch.Norm", 30, None),
    ("Relu", 30, None),
    ("Conv2D", 28, 64),
    ("Batch.Norm", 28, None),
    ("Relu", 28, None),
    ("MaxPooling2D", 14, None),
    ("Dropout", 14, None),
    ("Conv2D", 12, 128),
    ("Batch.Norm", 12, None),
    ("Relu", 12, None),
    ("Conv2D", 10, 256),
    ("Batch.Norm", 10, None),
    ("Relu", 10, None),
    ("MaxPooling2D", 5, None),
    ("Dropout", 5, None),
    ("Linear", 500, None),
    ("Batch.Norm", 500, None),
    ("Relu", 500, None),
    ("Dropout", 500, None),
    ("Linear", 150, None),
    ("Batch.Norm", 150, None),
    ("Relu", 150, None),
    ("Dropout", 150, None),
    ("Linear", 25, None),
)
"""R4's Cuadro 3 (its final model), row by row: the layer type, its output dimension
(the side of the feature map, or a Linear layer's width) and, for a convolution, its
output channels."""

_R4_NAMES = {"Conv2D": "Conv2D", "BatchNormalization": "Batch.Norm", "ReLU": "Relu"}
_R4_NAMES.update(MaxPooling2D="MaxPooling2D", Dropout="Dropout", Dense="Linear")


def against_cuadro_3(model):
    """``model``'s layers beside R4's Cuadro 3 (a pandas DataFrame, one row per
    layer): R4's type, output dimension and channels, ours, our output shape and
    parameters, and whether type and shape agree (a row either side lacks: "NO").
    The input, normalisation, augmentation and Flatten layers, which R4's table
    leaves out, are left out."""
    import pandas as pd

    ours = [layer for layer in model.layers if layer.__class__.__name__ in _R4_NAMES]
    rows = []
    for r4, layer in itertools.zip_longest(CUADRO_3, ours):
        kind, side, channels = r4 or ("—", None, None)
        row = {"R4's layer": kind, "R4's output": f"{side or '—'}"}
        row["R4's output"] += f" × {channels}" if channels else ""
        same = False
        if layer is not None:
            shape = tuple(layer.output.shape[1:])
            ours_kind = _R4_NAMES[layer.__class__.__name__]
            same = ours_kind == kind and shape[0] == side
            same = same and (channels is None or shape[-1] == channels)
            rate = f" {layer.rate}" if ours_kind == "Dropout" else ""
            row["our layer"] = layer.name + rate
            row["our output shape"] = " × ".join(map(str, shape))
            row["our parameters"] = layer.count_params()
        rows.append(dict(row, same="yes" if same else "NO"))
    frame = pd.DataFrame(rows).fillna("—")
    frame.index = range(1, len(rows) + 1)
    return frame


def trained(runs, num_classes: int) -> str:
    """``'flat (+0.004), above chance'``: whether the seeds' mean validation curve
    had flattened (:func:`helpers.findings.plateau`, its gain in brackets) and ended
    well above chance (over twice 1 / ``num_classes``)."""
    from .. import findings

    gain, flat = findings.plateau([run.history for run in runs])
    final = np.mean([run.history["val_accuracy"][-1] for run in runs])
    above = "above chance" if final > 2 / num_classes else "NEAR CHANCE"
    return f"{'flat' if flat else 'still rising'} ({gain:+.3f}), {above}"


BUDGET = ("n_train", "epochs", "batch_size")
"""The options that make a configuration's training budget."""


def budget_lines(result, num_classes: int) -> list[str]:
    """One Markdown line per decided step of ``result`` (``ablation.Result``): whether
    the step and its reference each trained until flat
    (:func:`helpers.findings.plateau`), stayed well above chance (twice 1 /
    ``num_classes``), and had the same budget (:data:`BUDGET`)."""
    lines = []
    for row in result.rows:
        if row["decision"] not in ("kept", "dropped", "undecided"):
            continue
        reference = result.row(row["reference"])["config"]
        same = all(row["config"][k] == reference[k] for k in BUDGET)
        budget = "equal budgets" if same else "the budget is what it changes"
        lines.append(
            f"- **{row['step']}**: {trained(row['runs'], num_classes)};"
            f" its reference: {trained(row['reference_runs'], num_classes)}; {budget}"
        )
    return lines
