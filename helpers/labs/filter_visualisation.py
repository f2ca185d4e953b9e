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
from ..plots import LINE_STYLES, image_grid, legend_below_panels, panel_grid


def stretched_change(results, start) -> np.ndarray:
    """What gradient ascent added to ``start`` (``results - start``), as images in
    [0, 1]: mid-grey is no change, and one contrast stretch for all ``results`` (the
    99.5th percentile of the change's size maps to black or white), so they compare."""
    change = np.asarray(results, dtype=float) - np.asarray(start, dtype=float)
    scale = 2 * max(np.percentile(np.abs(change), 99.5), 1e-8)
    return np.clip(0.5 + change / scale, 0, 1)


STATUS_COLOURS = {CONVERGED: "tab:blue", RISING: "tab:orange", NO_RISE: "tab:red"}
"""The colour of each status of :func:`helpers.gradients.convergence`."""
STATUS_SHADES = {CONVERGED: "Blues", RISING: "Oranges", NO_RISE: "Reds"}
"""The colour map each status's lines take their shades from (grey: another)."""


def status_shades(statuses: Sequence[str]) -> list:
    """A colour per line: its status's hue (:data:`STATUS_SHADES`), in a shade of its
    own among the lines of that status, so that many lines stay apart."""
    colours, seen = [], {}
    counts = {s: list(statuses).count(s) for s in set(statuses)}
    for status in statuses:
        k, n = seen.setdefault(status, 0), counts[status]
        seen[status] = k + 1
        shade = 0.65 if n == 1 else 0.4 + 0.55 * k / (n - 1)
        colours.append(plt.get_cmap(STATUS_SHADES.get(status, "Greys"))(shade))
    return colours


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
    if any(flagged):  # a note under the grid, inside the figure
        note = fig.text(
            0.5, 0.005, f"red frame: {flag}", ha="center", va="bottom", color="tab:red"
        )
        height = note.get_window_extent(fig.canvas.get_renderer()).height
        fig.tight_layout(rect=(0, height / fig.bbox.height + 0.01, 1, 1))
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
    a row), one line per image, in its ascent's status's hue
    (:func:`helpers.gradients.convergence`), a shade of its own
    (:func:`status_shades`). ``panels[name]`` is :attr:`Ascent.values`,
    ``(steps + 1, n_images)``; ``styles[name]``, optionally, a label per image drawn
    as a line style (the starting image, say)."""
    names = list(panels)
    kinds = list(dict.fromkeys(s for n in names for s in (styles or {}).get(n, [])))
    present = {s for n in names for s in statuses[n]}
    seen = [s for s in STATUS_COLOURS if s in present] + sorted(
        present - set(STATUS_COLOURS)
    )
    fig, axes = panel_grid(len(names), (size[0] * min(2, len(names)), size[1]))
    fig.set_figheight(fig.get_figheight() + 0.5)  # room for the legend under them
    for ax, name in zip(axes, names):
        values = np.asarray(panels[name])
        kind = (styles or {}).get(name, [None] * values.shape[1])
        for j, colour in enumerate(status_shades(list(statuses[name]))):
            style = (
                LINE_STYLES[kinds.index(kind[j]) % 4] if kind[j] is not None else "-"
            )
            ax.plot(values[:, j], style, color=colour, linewidth=1, alpha=0.85)
        ax.set_title(name)
        ax.set_xlabel("gradient-ascent step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    handles = [
        plt.Line2D([], [], color=STATUS_COLOURS.get(s, "grey"), label=s) for s in seen
    ] + [
        plt.Line2D(
            [], [], color="black", linestyle=LINE_STYLES[i % 4], label=f"from {k}"
        )
        for i, k in enumerate(kinds)
    ]
    fig.suptitle(title)
    legend_below_panels(fig, handles, [h.get_label() for h in handles])
    return fig
