"""The t-SNE lab's own figures (labelled 2-D maps, legends placed under them) and its
rankings read with the seeds' noise."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import findings
from ..plots import legend_below_panels, legend_under_axes


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


def legend_below(fig, ax, ncol: int = 5, markerscale: float = 3.0):
    """One legend for a figure of maps, under its panels (off the points) and inside
    the figure's width, from the entries of ``ax``; a separating line is named without
    that panel's error count (each panel's title gives its own). Call once the panels
    are drawn; returns the legend."""
    handles, labels = ax.get_legend_handles_labels()
    labels = [
        "best separating line" if label.startswith("linear separation") else label
        for label in labels
    ]
    return legend_below_panels(
        fig, handles, labels, ncol=ncol, fontsize=9, markerscale=markerscale
    )


def legend_under(ax, ncol: int = 5, markerscale: float = 3.0):
    """A panel's own legend, under it (off the points) and no wider than it: for
    figures whose panels show different classes. Call before ``fig.tight_layout()``;
    returns the legend."""
    return legend_under_axes(ax, ncol=ncol, fontsize=8, markerscale=markerscale)


def _step(scores, better: str, worse: str, higher_is_better: bool) -> str:
    """``better`` against ``worse``: ``"ahead"`` or ``"behind"`` beyond noise (Welch
    95%, :func:`helpers.findings.separated`), ``"tie"`` within noise, or
    ``"undecided"`` with fewer than :data:`helpers.findings.MIN_RUNS` runs."""
    if findings.welch_p(scores[better], scores[worse]) is None:
        return "undecided"
    if not findings.separated(scores[better], scores[worse]):
        return "tie"
    gap = np.mean(scores[better]) - np.mean(scores[worse])
    return "ahead" if (gap > 0) == higher_is_better else "behind"


def ranked(scores, *, higher_is_better: bool = True) -> str:
    """``scores`` (name -> one value per seed) best first by mean: ``"a > b"`` where a
    is ahead beyond noise, ``"a ≈ b (tie within noise)"`` where not, ``"a ? b
    (undecided: n < 3)"`` where the seeds are too few to tell."""
    order = findings.ranking(scores, higher_is_better=higher_is_better)
    text = order[0]
    for better, worse in zip(order, order[1:]):
        step = _step(scores, better, worse, higher_is_better)
        if step == "ahead":
            text += f" > {worse}"
        elif step == "tie":
            text += f" ≈ {worse} (tie within noise)"
        else:
            text += f" ? {worse} (undecided: n < {findings.MIN_RUNS})"
    return text


def order_held(scores, order, *, higher_is_better: bool = True) -> str:
    """How far ``order`` (a report's, best first) holds in ``scores``, step by step
    (neighbours in ``order``): ``"holds beyond noise at 1 of 3 steps; tie within noise:
    a vs b, b vs c"``, with the reversed and undecided steps named too."""
    steps: dict[str, list[str]] = {}
    for better, worse in zip(order, order[1:]):
        step = _step(scores, better, worse, higher_is_better)
        steps.setdefault(step, []).append(f"{better} vs {worse}")
    text = (
        f"holds beyond noise at {len(steps.get('ahead', []))} of {len(order) - 1} steps"
    )
    for step, words in (
        ("tie", "tie within noise"),
        ("behind", "reversed beyond noise"),
        ("undecided", f"undecided (n < {findings.MIN_RUNS})"),
    ):
        if steps.get(step):
            text += f"; {words}: {', '.join(steps[step])}"
    return text
