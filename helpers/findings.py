"""Results → findings: the reported-vs-ours table, its verdicts, and
computed statements.

A page's words about its own results are computed here from the run, so they are true in
the book and for whoever re-runs the lab with other numbers. Prose cells interpret; they
do not restate our numbers.

**The verdict rule** (one rule for every lab, also stated on the summary page):

* ``not comparable`` when the row says why
  (``not_comparable="substitute data: ..."``): other data, another net, a reduced
  budget, a smoke run. The reason is shown in the note.
* otherwise, with ``m`` and ``s`` the mean and sample standard deviation of our values
  over seeds (``s = 0`` for a single run) and ``r`` the reported value: ``reproduced``
  when ``|m - r| <= max(2 s, tolerance)``, else ``differs (higher)`` or
  ``differs (lower)``. The tolerance is the row's own (``tolerance=``) or
  :data:`DEFAULT_TOLERANCE`: the reports give one run to two or three decimals, so a gap
  under one point of accuracy is within what a single run of theirs could vary.

Each table is also stored machine-readably in its output's metadata
(:data:`METADATA_KEY`), from which the book's machinery (``python -m machinery
summary``) writes the book's reproduction summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_TOLERANCE = 0.01
METADATA_KEY = "dl-practicals"
REPRODUCED, NOT_COMPARABLE = "reproduced", "not comparable"


def mean_std(values: Sequence[float], digits: int = 4) -> str:
    """``'0.9712 ± 0.0012 (n=3)'``; a single value is shown alone with n=1."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (n=1)"
    return (
        f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f} "
        f"(n={len(values)})"
    )


def verdict(
    reported: float | None,
    ours: Sequence[float],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    not_comparable: str = "",
) -> str:
    """The verdict of one compared number, by the rule in this module's docstring."""
    if not_comparable or reported is None:
        return NOT_COMPARABLE
    ours = np.asarray(ours, dtype=float)
    spread = ours.std(ddof=1) if len(ours) > 1 else 0.0
    gap = ours.mean() - reported
    if abs(gap) <= max(2 * spread, tolerance):
        return REPRODUCED
    return "differs (higher)" if gap > 0 else "differs (lower)"


def compare(rows: Sequence[Mapping], *, profile: str = "") -> list[dict]:
    """Each row with its statistics and verdict, as plain data (what the table shows).

    A row: ``experiment``, ``report`` (tag, e.g. ``"R3"``), ``reported`` (number or
    None), ``ours`` (one value per seed), optionally ``tolerance``, ``not_comparable``
    (the reason) and ``note``. In the ``smoke`` profile every row is not comparable.
    """
    out = []
    for row in rows:
        ours = [float(v) for v in np.ravel(row["ours"])]
        reason = row.get("not_comparable", "")
        if profile == "smoke":
            reason = "smoke run on tiny samples"
        tolerance = row.get("tolerance", DEFAULT_TOLERANCE)
        note = "; ".join(x for x in (reason, row.get("note", "")) if x)
        out.append(
            {
                "experiment": row["experiment"],
                "report": row.get("report", ""),
                "reported": row.get("reported"),
                "ours": ours,
                "mean": float(np.mean(ours)),
                "std": float(np.std(ours, ddof=1)) if len(ours) > 1 else None,
                "n": len(ours),
                "tolerance": tolerance,
                "verdict": verdict(
                    row.get("reported"),
                    ours,
                    tolerance=tolerance,
                    not_comparable=reason,
                ),
                "note": note,
            }
        )
    return out


def frame(compared: Sequence[Mapping], digits: int = 4):
    """A pandas table of :func:`compare`'s rows, for display."""
    import pandas as pd

    table = pd.DataFrame(
        {
            "experiment": r["experiment"],
            "report": r["report"],
            "reported": "—" if r["reported"] is None else f"{r['reported']:g}",
            "ours (mean ± std)": mean_std(r["ours"], digits),
            "difference": "—"
            if r["reported"] is None
            else f"{r['mean'] - r['reported']:+.{digits}f}",
            "verdict": r["verdict"],
            "note": r["note"],
        }
        for r in compared
    ).set_index("experiment")
    if not table["note"].astype(bool).any():
        table = table.drop(columns="note")
    return table


def reported_vs_ours(
    rows: Sequence[Mapping], *, profile: str | None = None, digits: int = 4
):
    """Show the reported-vs-ours table with verdicts and store it in the
    output's metadata.

    Returns the compared rows (:func:`compare`), for statements computed from them.
    """
    from IPython.display import publish_display_data

    from . import profile as profiles

    profile = profiles.current() if profile is None else profiles.validate(profile)
    compared = compare(rows, profile=profile)
    table = frame(compared, digits)
    publish_display_data(
        {"text/html": table.to_html(), "text/plain": table.to_string()},
        metadata={METADATA_KEY: {"results": compared, "profile": profile}},
    )
    return compared


def tally(compared: Sequence[Mapping]) -> str:
    """``'3 of 4 compared numbers reproduced, 1 differs'``: the table in
    one sentence."""
    verdicts = [r["verdict"] for r in compared]
    comparable = [v for v in verdicts if v != NOT_COMPARABLE]
    parts = [
        f"{verdicts.count(REPRODUCED)} of {len(comparable)} comparable numbers "
        "reproduced"
    ]
    differ = len(comparable) - verdicts.count(REPRODUCED)
    if differ:
        parts.append(f"{differ} differ{'s' if differ == 1 else ''}")
    if len(comparable) < len(verdicts):
        parts.append(f"{len(verdicts) - len(comparable)} not comparable")
    return ", ".join(parts)


def ranking(
    scores: Mapping[str, Sequence[float]], *, higher_is_better: bool = True
) -> list[str]:
    """Names ordered from best to worst by their mean score."""
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    return sorted(means, key=means.get, reverse=higher_is_better)


def separated(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when the means of ``a`` and ``b`` differ by more than twice the larger std
    (the runs' spread); with single runs, never: one run each cannot tell noise from
    an effect."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if min(len(a), len(b)) < 2:
        return False
    return abs(a.mean() - b.mean()) > 2 * max(a.std(ddof=1), b.std(ddof=1))


def say(text: str) -> None:
    """Show a computed statement as Markdown (rendered in Jupyter, Colab and
    the book)."""
    from IPython.display import Markdown, display

    display(Markdown(text))
