"""Results of several configurations compared: dots and intervals on an axis fitted to
them for close quantities (:func:`compare_runs`), bars from zero where zero matters
(:func:`compare_bars`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np

from .. import findings
from .style import PALETTE, legend_under_axes

REPORTED_MARK = {"mfc": "white", "mec": "black", "mew": 1.5, "ms": 7, "ls": "none"}
"""How a report's value is drawn: a hollow black diamond."""


class Row(NamedTuple):
    """One configuration's row of :func:`compare_runs`."""

    label: str
    series: str | None  # the variant a colour stands for (None: one colour for all)
    colour: tuple
    values: Sequence[float]
    reported: float | None


def compare_runs(
    scores: Mapping,
    reported: Mapping | None = None,
    *,
    title: str = "",
    ylabel: str | None = None,
    kind: str = "accuracy",
    dots: str = "seed",
    report: str = "reported",
    figsize=None,
):
    """Close quantities compared (accuracies, losses): a row per configuration, each
    run a dot, mean ± std a line with a centre mark, and a report's value a hollow
    diamond beside them (never on them), on an axis fitted to the data (not from
    zero), so that a difference of a point shows. For quantities whose zero matters
    (counts, times) use :func:`compare_bars`.

    ``scores[name] = [value per seed]`` (``reported[name]``), or grouped as
    :func:`compare_bars` takes them: ``scores[group][variant]`` (``reported[group,
    variant]``; one colour a variant). Each row's label gives its mean ± std (n) and
    the report's value, printed for ``kind`` (:data:`helpers.findings.KINDS`); one run
    draws no interval. ``ylabel``: what the values are (default: the one variant's
    name, or ``kind``); ``dots`` names a run (``"fold"``); ``report`` the reported
    values (``"R2"``). Returns the figure.
    """
    findings.kind_of(kind)
    rows, quantity, category = _comparison_rows(scores, reported or {})
    fig, ax = plt.subplots(figsize=figsize or (7, 1.7 + 0.5 * len(rows)))
    drawn = [_draw_row(ax, y, row) for y, row in enumerate(rows)]
    labels = [_row_label(row, kind, report) for row in rows]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # the first row on top
    _fit_value_axis(ax, np.concatenate(drawn))
    ax.set_xlabel(ylabel or quantity or kind)
    ax.set_ylabel(category or "")
    fig.suptitle(title)  # over the figure: long row labels push the axes right
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    legend_under_axes(ax, *_comparison_legend(rows, dots, report), ncol=6, fontsize=8)
    fig.tight_layout()
    return fig


def _comparison_rows(scores: Mapping, reported: Mapping):
    """``scores`` as :class:`Row` s, with the name all rows share as a quantity (one
    variant) or a category (one group)."""
    if not scores:
        raise ValueError("compare_runs: no scores to draw; pass {name: [values]}.")
    if not isinstance(next(iter(scores.values())), Mapping):
        rows = [Row(k, None, PALETTE[0], v, reported.get(k)) for k, v in scores.items()]
        return rows, None, None
    groups = list(scores)
    variants = list(dict.fromkeys(v for g in groups for v in scores[g]))
    both = len(groups) > 1 and len(variants) > 1
    rows = [
        Row(
            f"{g} · {v}" if both else g if len(variants) == 1 else v,
            v if both else None,
            PALETTE[i % len(PALETTE)] if both else PALETTE[0],
            scores[g][v],
            reported.get((g, v)),
        )
        for g in groups
        for i, v in enumerate(variants)
        if v in scores[g]
    ]
    category = groups[0] if len(groups) == 1 and len(variants) > 1 else None
    return rows, variants[0] if len(variants) == 1 else None, category


def _draw_row(ax, y: float, row: Row) -> np.ndarray:
    """One row: the runs as dots above its line, mean ± sample std as a line with a
    centre mark, a reported value as a hollow diamond below it. Returns the values
    drawn."""
    colour, mark = row.colour, row.reported
    values = np.asarray(row.values, dtype=float).ravel()
    n, mean = len(values), values.mean()
    jitter = np.linspace(-0.07, 0.07, n) if n > 1 else np.zeros(1)
    ax.plot(values, y - 0.25 + jitter, "o", color=colour, alpha=0.6, markersize=3.5)
    ends = [mean]
    if n > 1:
        ends = [mean - values.std(ddof=1), mean + values.std(ddof=1)]
        ax.plot(ends, [y, y], "-", color=colour, linewidth=2)
    ax.plot([mean], [y], "o", color=colour, markeredgecolor="black", markersize=7)
    if mark is not None:
        ax.plot([mark], [y + 0.25], "D", **REPORTED_MARK)
        ends.append(mark)
    return np.concatenate([values, ends])


def _row_label(row: Row, kind: str, report: str) -> str:
    """'scratch' over '0.730 ± 0.030 (n=3), reported 0.720'."""
    text = f"{row.label}\n{findings.mean_std(np.ravel(row.values), 3, kind=kind)}"
    if row.reported is None:
        return text
    return f"{text}, {report} {findings.number(row.reported, kind, 3)}"


def _fit_value_axis(ax, values: np.ndarray) -> None:
    """The value (x) axis just around ``values``, with an 8% margin."""
    values = values[np.isfinite(values)]
    low, high = values.min(), values.max()
    margin = 0.08 * (high - low) or 0.02 * abs(high) or 0.01
    ax.set_xlim(low - margin, high + margin)


def _comparison_legend(rows, dots: str, report: str):
    """What the marks of :func:`compare_runs` mean, and each variant's colour."""
    grey = "0.4"
    handles = [
        plt.Line2D([], [], marker="o", ls="none", color=grey, alpha=0.6, ms=3.5),
        plt.Line2D([], [], marker="o", color=grey, mec="black", lw=2, ms=7),
    ]
    labels = [f"one {dots}", "mean ± std"]
    if any(row.reported is not None for row in rows):
        handles.append(plt.Line2D([], [], marker="D", **REPORTED_MARK))
        labels.append(report)
    for series, colour in dict.fromkeys((r.series, r.colour) for r in rows if r.series):
        handles.append(plt.Line2D([], [], marker="o", ls="none", color=colour, ms=7))
        labels.append(series)
    return handles, labels


def compare_bars(
    results: Mapping[str, Mapping[str, Sequence[float]]],
    ylabel: str | None = None,
    title: str = "",
    ylim=None,
    figsize=(7, 4),
    points: bool = False,
    reported: Mapping[tuple[str, str], float] | None = None,
):
    """Grouped bars of mean ± std from zero: ``results[group][variant] = [value per
    seed]``. For quantities whose zero matters (counts, times, sizes); close ones
    (accuracies, losses) are :func:`compare_runs`' job, whose axis fits the data.

    ``points=True`` also draws every value (each seed, or each fold) as a dot on its
    bar; ``reported[group, variant]`` a report's value as a hollow diamond at its
    bar's side. ``ylabel``: what the values are (default: the variant, when there is
    one). Each mean is written above all of its bar's marks; the legend sits under the
    axes, off the data.
    """
    groups = list(results)
    variants = list(dict.fromkeys(v for g in groups for v in results[g]))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=figsize)
    x = np.arange(len(groups))
    for i, variant in enumerate(variants):
        values = [
            np.asarray(results[g].get(variant, [np.nan]), dtype=float) for g in groups
        ]
        centres = x + (i - (len(variants) - 1) / 2) * width
        marks = [(reported or {}).get((g, variant)) for g in groups]
        _bars(ax, centres, values, variant, width, points)
        for centre, v, mark in zip(centres, values, marks):
            _bar_value(ax, centre, v, points, mark, width)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel or (variants[0] if len(variants) == 1 else "value"))
    _bar_axis_limits(ax, ylim)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    legend_under_axes(ax)
    fig.tight_layout()
    return fig


def _bars(ax, centres, values, variant: str, width: float, points: bool) -> None:
    """One variant's bars (mean ± sample std), and with ``points`` every value as a
    dot."""
    means = [v.mean() for v in values]
    stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
    ax.bar(centres, means, width, yerr=stds, capsize=4, label=variant)
    if points:
        for centre, v in zip(centres, values):
            spread = np.linspace(-0.25, 0.25, len(v)) if len(v) > 1 else np.zeros(1)
            ax.plot(
                centre + spread * width, v, "o", color="black", markersize=3, alpha=0.6
            )


def _bar_value(ax, centre: float, values, points: bool, mark, width: float) -> None:
    """A bar's mean written above all its marks, and a reported value (``mark``) as a
    hollow diamond at the bar's side (one "reported" legend entry)."""
    std = values.std(ddof=1) if len(values) > 1 else 0.0
    tops = [values.mean() + std, *(values if points else [])]
    if mark is not None:
        first = "reported" not in ax.get_legend_handles_labels()[1]
        ax.plot(
            [centre + 0.38 * width],
            [mark],
            "D",
            **REPORTED_MARK,
            label="reported" if first else None,
        )
        tops.append(mark)
    if np.isnan(values.mean()):
        return
    ax.annotate(
        f"{values.mean():.3f}",
        (centre, np.nanmax(np.array(tops, dtype=float))),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=8,
    )


def _bar_axis_limits(ax, ylim) -> None:
    """``ylim``, or from zero: a fraction's axis ends at 1, with room above for the
    value labels."""
    if ylim is None:
        top = ax.get_ylim()[1]
        fraction = top <= 1.1
        ylim = (0.0, 1.12 if fraction else top * 1.08)
        if fraction:
            ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylim(*ylim)
