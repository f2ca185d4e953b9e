"""The summary's figure: every compared number, reported vs ours, on one honest axis.

Rows hold accuracies, losses, counts and epochs, so each is drawn as the difference
ours − reported in units of its own tolerance: 0 is the reported value, the shaded
band ±1 is the tolerance, the bar is the 95% prediction interval for one more of our
runs; the values themselves are written beside. The figure's data is hashed
(:func:`data_hash`): the page prints the hash and the PNG stores it, so a test can tell
that they were made together without comparing image bytes.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Mapping, Sequence

from helpers import findings

COLOURS = {  # by verdict (colour-blind safe: Okabe-Ito)
    findings.REPRODUCED: "#009E73",
    "differs": "#D55E00",
    "inconclusive": "#7F7F7F",
}
LIMIT = 12.0  # the axis ends here (in tolerances); rows beyond point off it


def points(rows: Sequence[Mapping]) -> list[dict]:
    """What the figure draws: each compared row (a reported value, a verdict other
    than not comparable), its numbers in units of its tolerance (the kind's default
    where a derived row states none)."""
    drawn = []
    for r in rows:
        head = findings.verdict_head(r["verdict"])
        if r["reported"] is None or head == findings.NOT_COMPARABLE:
            continue
        kind, mean = r["kind"], sum(r["ours"]) / len(r["ours"])
        scale = r["tolerance"] or findings.default_tolerance(kind, r["reported"])
        half = r["half_width"]
        drawn.append(
            {
                "lab": r["lab_title"],
                "experiment": r["experiment"],
                "verdict": head,
                "x": round((mean - r["reported"]) / scale, 6),
                "bar": None if half is None else round(half / scale, 6),
                "text": _values(r, mean),
            }
        )
    return drawn


def _values(row: Mapping, mean: float) -> str:
    """``'R3 0.87 · ours 0.859 ± 0.057 (95%, n=3)'``: the row's numbers as its kind
    prints them, ± the 95% interval's half-width."""
    kind, n = row["kind"], len(row["ours"])
    ours = findings.number(mean, kind, 3)
    if row["half_width"] is not None:
        ours += f" ± {findings.short(row['half_width'], kind)}"
    spread = f"95%, n={n}" if row["half_width"] is not None else f"n={n}"
    return (
        f"{row.get('report', '')} {row['reported']:g} · ours {ours} ({spread})".strip()
    )


def data_hash(drawn: Sequence[Mapping]) -> str:
    """SHA-256 of what the figure draws (canonical JSON)."""
    text = json.dumps(list(drawn), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _layout(drawn: Sequence[Mapping]) -> tuple[list[tuple[float, str]], list[float]]:
    """The y of each lab's heading and of each row, top to bottom."""
    headings, ys, y = [], [], 0.0
    for i, p in enumerate(drawn):
        if i == 0 or p["lab"] != drawn[i - 1]["lab"]:
            y -= 0.4 if i == 0 else 1.25
            headings.append((y, p["lab"]))
        y -= 1.0
        ys.append(y)
    return headings, ys


def _limit(drawn: Sequence[Mapping]) -> float:
    """The half-range of the axis: every row and its bar, within 3 and :data:`LIMIT`."""
    reach = max((abs(p["x"]) + (p["bar"] or 0) for p in drawn), default=0.0)
    return min(LIMIT, max(3.0, reach * 1.08))


def _draw_row(ax, y: float, p: Mapping, limit: float) -> None:
    """One row: its bar (clipped to the axis), its point (an arrow at the edge when
    beyond), and on the left its experiment over its values."""
    colour = COLOURS[p["verdict"]]
    if p["bar"] is not None:
        low, high = max(p["x"] - p["bar"], -limit), min(p["x"] + p["bar"], limit)
        ax.plot([low, high], [y, y], color=colour, lw=2.4, solid_capstyle="butt")
    x = max(-limit, min(limit, p["x"]))
    marker = "o" if x == p["x"] else (">" if x > 0 else "<")
    ax.plot([x], [y], marker=marker, ms=7, color=colour, mec="white", mew=0.7)
    left = dict(transform=ax.get_yaxis_transform(), ha="right", va="center")
    label = textwrap.shorten(p["experiment"], 40, placeholder="…")
    ax.text(-0.03, y + 0.19, label, fontsize=9, **left)
    ax.text(-0.03, y - 0.24, p["text"], fontsize=8, color="#555555", **left)


def draw(drawn: Sequence[Mapping], path, digest: str) -> None:
    """Draw the figure of ``drawn`` (:func:`points`) into the PNG ``path``, with
    ``digest`` (:func:`data_hash`) in its metadata."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    headings, ys = _layout(drawn)
    height = 1.5 + 0.34 * (0.8 - min(ys, default=-1.0))
    fig = Figure(figsize=(6.0, height), dpi=200)
    ax = fig.add_axes((0.47, 0.6 / height, 0.51, 1 - 1.5 / height))
    limit = _limit(drawn)
    ax.axvspan(-1, 1, color="#DDEEFF", zorder=0)
    ax.axvline(0, color="#4477AA", lw=0.8, zorder=1)
    for y, p in zip(ys, drawn):
        _draw_row(ax, y, p, limit)
    for i, (y, lab) in enumerate(headings):
        ax.text(
            -0.03,
            y,
            lab,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=10,
            weight="bold",
        )
        if i:
            ax.axhline(y + 0.62, color="#BBBBBB", lw=0.6)
    ax.set(xlim=(-limit, limit), ylim=(min(ys, default=-1) - 0.7, 0.1), yticks=[])
    ax.tick_params(labelsize=9)
    ax.set_xlabel("(ours − reported) ÷ tolerance", fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.suptitle(
        "Reported vs ours, in units of each number's tolerance",
        fontsize=11.5,
        weight="bold",
        y=1 - 0.1 / height,
    )
    handles = [Patch(color=c, label=v) for v, c in COLOURS.items()] + [
        Patch(color="#DDEEFF", label="± tolerance"),
        Line2D([], [], color="#555555", lw=2.4, label="95% interval, one more run"),
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=3,
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 1 - 0.4 / height),
    )
    fig.savefig(path, metadata={"Software": None, "Description": digest})
