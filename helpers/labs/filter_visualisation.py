"""The filter-visualisation lab's own code: the verdict on each gradient-ascent climb
(converged, stalled flat or still rising), the curves coloured by it, image grids that
flag the climbs that did not converge, what an ascent added to its starting image, and
where in the image that change gathers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import findings
from ..gradients import CONVERGED, NO_RISE, RISING, convergence
from ..plots import LINE_STYLES, image_grid, legend_below_panels, panel_grid

STALLED = "stalled flat"
MARGIN = 0.2
"""Ours (the reports ask no such question): a climb has found something only if its
objective rose by at least this share of the median rise of the climbs run with it
(the same layer, the same kind of start)."""


def climb_status(values, *, groups=None, margin: float = MARGIN, **rule) -> np.ndarray:
    """Each climb as ``"converged"``, ``"stalled flat"`` or ``"still rising"``.

    ``values`` is :attr:`helpers.gradients.Ascent.values`, ``(steps + 1, n_images)``;
    ``rule`` goes to :func:`helpers.gradients.convergence` (``tail``, ``settled``),
    which tells a climb still rising from one that levelled off. A levelled-off climb
    converged only if it rose by ``margin`` times the median rise of its group
    (``groups``: a label per image, the climbs run with it; None: all of them);
    otherwise, or if it did not rise at all, it *stalled flat*: its image is mostly
    its start (noise, say), not what the filter looks for. A group whose climbs all
    stall alike cannot show it: the margin is relative.
    """
    values = np.asarray(values, dtype="float64")
    status = convergence(values, **rule)
    rise = values[-1] - values[0]
    groups = np.zeros(len(rise)) if groups is None else np.asarray(groups)
    for group in np.unique(groups):
        mine = groups == group
        typical = max(float(np.median(rise[mine])), 0.0)
        low = mine & (status != RISING) & ((rise <= 0) | (rise < margin * typical))
        status[low] = STALLED
    return status


def status_counts(status) -> str:
    """``'20 converged, 3 stalled flat, 9 still rising'`` (every count, zeros too)."""
    status = np.asarray(status)
    return ", ".join(f"{(status == s).sum()} {s}" for s in (CONVERGED, STALLED, RISING))


def converged_of(status) -> str:
    """``'20 of 32'``: how many climbs converged, of how many."""
    return f"{(np.asarray(status) == CONVERGED).sum()} of {len(status)}"


SHORT = {RISING: "rising", STALLED: "stalled", NO_RISE: "no rise"}
"""Each verdict but *converged*, as an image's caption says it."""


def captions(names, status) -> list[str]:
    """Each image's name, with the verdict of a climb that did not converge."""
    return [f"{n}: {SHORT[s]}" if s in SHORT else f"{n}" for n, s in zip(names, status)]


def centre_share(change) -> np.ndarray:
    """Each change's share of its absolute size (summed over colours) that falls in
    the middle half of each side of ``change`` ``(N, H, W, C)``: 0.25 if spread
    evenly."""
    size = np.abs(np.asarray(change, dtype="float64")).sum(axis=-1)  # (N, H, W)
    h, w = size.shape[1:]
    centre = size[:, h // 4 : h - h // 4, w // 4 : w - w // 4].sum(axis=(1, 2))
    return centre / size.sum(axis=(1, 2))


def centre_verdict(shares, threshold: float) -> str:
    """Whether a layer's changes from one start gather in the centre, from the
    filters' ``shares`` (:func:`centre_share`): the 95% prediction interval for one
    more filter (:func:`helpers.findings.prediction_interval`, ours) wholly at or
    above ``threshold`` (*centre*), wholly below (*whole image*), else *undecided*;
    always undecided with fewer than three filters."""
    if len(shares) < findings.MIN_RUNS:
        return "undecided"
    mean, half = findings.prediction_interval(shares)
    if mean - half >= threshold:
        return "centre"
    return "whole image" if mean + half < threshold else "undecided"


def stretched_change(results, start) -> np.ndarray:
    """What gradient ascent added to ``start`` (``results - start``), as images in
    [0, 1]: mid-grey is no change, and one contrast stretch for all ``results`` (the
    99.5th percentile of the change's size maps to black or white), so they compare."""
    change = np.asarray(results, dtype=float) - np.asarray(start, dtype=float)
    scale = 2 * max(np.percentile(np.abs(change), 99.5), 1e-8)
    return np.clip(0.5 + change / scale, 0, 1)


STATUS_COLOURS = {
    CONVERGED: "tab:blue",
    RISING: "tab:orange",
    STALLED: "tab:red",
    NO_RISE: "tab:red",
}
"""The colour of each status of :func:`climb_status` (and of
:func:`helpers.gradients.convergence`)."""
STATUS_SHADES = {
    CONVERGED: "Blues",
    RISING: "Oranges",
    STALLED: "Reds",
    NO_RISE: "Reds",
}
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
