"""The augmentation-ablation lab's own figure: the validation curves of each family of
steps, one panel per family (``ablation.Result.family`` gives them).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from ..plots import histories_of, mean_with_band


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
            mean_with_band(ax, histories_of(history), metric, markersize=2, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.set_title(panel)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
