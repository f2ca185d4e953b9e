"""The augmentation-ablation lab's own figure: the validation curves of each family of
steps, one panel per family (``ablation.Result.family`` gives them).
"""

from __future__ import annotations

from collections.abc import Mapping

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
