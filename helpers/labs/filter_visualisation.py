"""The filter-visualisation lab's own figures: gradient-ascent curves coloured by
whether each climb converged, image grids that flag the climbs that did not, and what
an ascent added to its starting image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..gradients import CONVERGED, NO_RISE, RISING
from ..plots import image_grid


def stretched_change(results, start) -> np.ndarray:
    """What gradient ascent added to ``start`` (``results - start``), as images in
    [0, 1]: mid-grey is no change, and one contrast stretch for all ``results`` (the
    99.5th percentile of the change's size maps to black or white), so they compare."""
    change = np.asarray(results, dtype=float) - np.asarray(start, dtype=float)
    scale = 2 * max(np.percentile(np.abs(change), 99.5), 1e-8)
    return np.clip(0.5 + change / scale, 0, 1)


STATUS_COLOURS = {CONVERGED: "tab:blue", RISING: "tab:orange", NO_RISE: "tab:red"}
"""The colour of each status of :func:`helpers.gradients.convergence`."""


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
