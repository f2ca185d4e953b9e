"""Results → findings: the reported-vs-ours table, its verdicts, and
computed statements.

A page's words about its own results are computed here from the run, so they are true in
the book and for whoever re-runs the lab with other numbers. Prose cells interpret; they
do not restate our numbers.

The verdict rule and the noise rule follow (:data:`RULE_TEXT`, :data:`NOISE_TEXT`: the
same words the summary page prints). Each table is also stored machine-readably in its
output's metadata (:data:`METADATA_KEY`, with the rule's number), so that its verdicts
can be recomputed (:func:`recompute`) and summarised by the book's machinery
(``python -m machinery summary``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RULE = 2  # the verdict rule tables are computed with; stored tables without one: 1
DEFAULT_TOLERANCE = 0.01  # rule 1's tolerance (tables stored before rule 2)
METADATA_KEY = "dl-practicals"
REPRODUCED, NOT_COMPARABLE = "reproduced", "not comparable"
MIN_RUNS = 3  # fewer runs than this cannot measure their own spread
ALPHA = 0.05  # 95%: the intervals' level and the t-tests' threshold
SMOKE_REASON = "smoke run on tiny samples"


@dataclass(frozen=True)
class Kind:
    """A kind of number: its default tolerance (from the reported value), the
    tolerance as the rule's text shows it, why, and whether it prints as whole
    numbers."""

    tolerance: Callable[[float], float]
    shown: str
    reason: str
    whole: bool = False


KINDS = {
    "accuracy": Kind(
        lambda r: 0.02,
        "± 0.02",
        "two points: seeds alone move these nets' accuracy by about a point, so 3 to 5 "
        "seeds cannot predict one more run much closer",
    ),
    "loss": Kind(
        lambda r: 0.05,
        "± 0.05",
        "0.05 nat of cross-entropy moves the probability the net gives the right class "
        "(its geometric mean) by 5%",
    ),
    "count": Kind(
        lambda r: max(1.0, 2 * math.sqrt(abs(r))),
        "± 2√r",
        "a count of events among many (errors in a test set) varies like a Poisson "
        "count, by about √r: 2√r is that noise's 95% range",
        whole=True,
    ),
    "epoch": Kind(
        lambda r: 1.0,
        "± 1",
        "curves are recorded once an epoch, so one epoch is the finest step an epoch "
        "number can move",
        whole=True,
    ),
}

RULE_TEXT = (
    "**The verdict rule (rule 2).** A report's number *r* is one training run; ours "
    "are *n* runs (one a seed) with mean *m* and sample standard deviation *s*. If our "
    "runs behave like theirs, their one run lands where one more of ours would: with "
    "95% probability within *m* ± *t*·*s*·√(1 + 1/*n*), *t* being the 0.975 quantile "
    "of Student's t with *n* − 1 degrees of freedom (4.30 for *n* = 3, 2.78 for "
    "*n* = 5). That is the 95% prediction interval for one more run. Then:\n\n"
    "* *reproduced* when *r* lies inside that interval and the interval is narrow: "
    "its half-width within the row's tolerance (a wide interval would call almost "
    "anything reproduced);\n"
    "* *differs (higher)* or *differs (lower)* when *r* lies outside it (ours above "
    "or below the report), with *n* ≥ 3;\n"
    "* *inconclusive* with fewer than 3 runs (one or two runs cannot measure their own "
    "spread), or when the interval is wider than the tolerance;\n"
    "* *not comparable* when the row says why (other data, another net, a reduced "
    "budget), and every row of a smoke run.\n\n"
    "A row says what kind of number it holds and may state its own tolerance with its "
    "reason; otherwise the kind's: "
    + "; ".join(f"{name} {k.shown} ({k.reason})" for name, k in KINDS.items())
    + ". A derived number (the epoch of the best, the epoch the loss turns) gets a "
    "verdict only from 3 runs and with a tolerance the row states in its unit: it "
    "jumps when a nearly flat curve wobbles.\n\n"
    "*Why not rule 1* (|*m* − *r*| ≤ max(2*s*, 0.01), still used to read tables "
    "stored before): it called a single run within a point *reproduced*, and trusted "
    "a spread measured from two runs."
)

NOISE_TEXT = (
    "**Agreement beyond noise.** A statement that compares two sets of our runs "
    "(*ranks first*, *as in R3*, *decided as R4*) holds only when Welch's two-sample "
    "t-test finds their means different at 95% (p < 0.05), with at least 3 runs each; "
    "otherwise it is a tie within noise, or undecided with fewer runs."
)

if __doc__:  # None under python -OO
    __doc__ += "\n" + RULE_TEXT + "\n\n" + NOISE_TEXT + "\n"


def kind_of(name: str) -> Kind:
    """The :class:`Kind` called ``name``, or a clear error."""
    if name not in KINDS:
        raise ValueError(f"unknown kind {name!r}: use one of {', '.join(KINDS)}")
    return KINDS[name]


def number(value: float, kind: str = "accuracy", digits: int = 4) -> str:
    """``value`` as its kind prints: counts and epochs whole or to one decimal
    (``'14'``, ``'8.7'``), accuracies and losses to ``digits`` decimals."""
    if not kind_of(kind).whole:
        return f"{value:.{digits}f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def short(value: float, kind: str) -> str:
    """A half-width or tolerance, short: ``'0.034'``, ``'2.3'``, ``'1'``."""
    return number(value, kind) if kind_of(kind).whole else f"{value:.2g}"


def mean_std(
    values: Sequence[float], digits: int = 4, *, kind: str = "accuracy"
) -> str:
    """``'0.9712 ± 0.0012 (n=3)'`` (``'8.7 ± 1.5 (n=3)'`` for a count); a single
    value is shown alone with n=1."""
    values = np.asarray(values, dtype=float)
    if len(values) == 1:
        return f"{number(values[0], kind, digits)} (n=1)"
    mean, std, n = values.mean(), values.std(ddof=1), len(values)
    if kind_of(kind).whole and not (mean.is_integer() and std.is_integer()):
        return f"{mean:.1f} ± {std:.1f} (n={n})"  # counts: one decimal each
    return f"{number(mean, kind, digits)} ± {number(std, kind, digits)} (n={n})"


# --- the verdict --------------------------------------------------------------------


def t_quantile(n: int) -> float:
    """The 0.975 quantile of Student's t with ``n - 1`` degrees of freedom (4.303 for
    n = 3)."""
    from scipy import stats

    return float(stats.t.ppf(1 - ALPHA / 2, n - 1))


def prediction_interval(ours: Sequence[float]) -> tuple[float, float]:
    """``(m, half-width)`` of the 95% prediction interval for one more of our runs:
    m ± t·s·√(1 + 1/n). Needs at least two runs."""
    ours = np.asarray(ours, dtype=float)
    n = len(ours)
    if n < 2:
        raise ValueError("a prediction interval needs at least 2 runs: add seeds")
    half = t_quantile(n) * ours.std(ddof=1) * math.sqrt(1 + 1 / n)
    return float(ours.mean()), float(half)


def default_tolerance(kind: str, reported: float) -> float:
    """The tolerance a row of ``kind`` gets when it states none (see :data:`KINDS`)."""
    return float(kind_of(kind).tolerance(reported))


def verdict(
    reported: float | None,
    ours: Sequence[float],
    *,
    tolerance: float | None = None,
    not_comparable: str = "",
    kind: str = "accuracy",
    derived: bool = False,
    rule: int = RULE,
) -> str:
    """The verdict of one compared number under ``rule`` (2: :data:`RULE_TEXT`; 1:
    |m - r| <= max(2 s, tolerance), the tolerance by default :data:`DEFAULT_TOLERANCE`).
    ``tolerance=None``: the kind's default (rule 2), none for a derived number."""
    if not_comparable or reported is None:
        return NOT_COMPARABLE
    ours = np.asarray(ours, dtype=float)
    if rule == 1:
        return _verdict_rule1(reported, ours, tolerance)
    if rule != 2:
        raise ValueError(f"unknown verdict rule {rule!r}: use 1 or 2")
    if len(ours) < MIN_RUNS:
        return f"inconclusive (n < {MIN_RUNS})"
    if tolerance is None:
        if derived:
            return "inconclusive (derived: no tolerance stated)"
        tolerance = default_tolerance(kind, reported)
    mean, half = prediction_interval(ours)
    if abs(mean - reported) > half:
        return _differs(mean - reported)
    if half > tolerance:
        return (
            f"inconclusive (interval ± {short(half, kind)} wider than the tolerance "
            f"± {short(tolerance, kind)})"
        )
    return REPRODUCED


def _differs(gap: float) -> str:
    return "differs (higher)" if gap > 0 else "differs (lower)"


def _verdict_rule1(reported: float, ours: np.ndarray, tolerance: float | None) -> str:
    """Rule 1, for tables stored before rule 2."""
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    std = ours.std(ddof=1) if len(ours) > 1 else 0.0
    gap = ours.mean() - reported
    return REPRODUCED if abs(gap) <= max(2 * std, tolerance) else _differs(gap)


def recompute(row: Mapping, rule: int) -> str:
    """A stored row's verdict computed again from its stored values under ``rule``.

    Rule-1 rows kept no reason apart from the note: there a stored *not comparable*
    stands as it is."""
    reason = row.get("not_comparable")
    if reason is None:  # a rule-1 row
        reason = "stored as not comparable" if row["verdict"] == NOT_COMPARABLE else ""
    return verdict(
        row["reported"],
        row["ours"],
        tolerance=row.get("tolerance"),
        not_comparable=reason,
        kind=row.get("kind", "accuracy"),
        derived=row.get("derived", False),
        rule=rule,
    )


def mismatches(table: Mapping) -> list[str]:
    """The experiments of a stored table whose verdict does not recompute under the
    table's rule (none: the table is sound)."""
    rule = table.get("rule", 1)
    return [
        row["experiment"]
        for row in table["results"]
        if recompute(row, rule) != row["verdict"]
    ]


# --- the table ----------------------------------------------------------------------


def _tolerance(row: Mapping, kind: str, derived: bool) -> tuple[float | None, str]:
    """A row's tolerance and its reason: its own, else its kind's (none if derived)."""
    if row.get("tolerance") is not None:
        tolerance = float(row["tolerance"])
        if tolerance < 0:
            raise ValueError(
                f"row {row['experiment']!r}: tolerance {tolerance:g} is negative"
            )
        return tolerance, row.get("tolerance_reason", "the lab's own; no reason given")
    if derived:
        return None, "a derived number needs a tolerance stated in its unit"
    if row.get("reported") is None:
        return None, ""
    return default_tolerance(kind, row["reported"]), f"{kind}: {KINDS[kind].reason}"


def _compared(row: Mapping, profile: str) -> dict:
    """One row of :func:`compare`."""
    ours = [float(v) for v in np.ravel(row["ours"])]
    if not ours:
        raise ValueError(
            f"row {row['experiment']!r}: 'ours' is empty (give one value per seed)"
        )
    kind, derived = row.get("kind", "accuracy"), bool(row.get("derived", False))
    kind_of(kind)
    reason = SMOKE_REASON if profile == "smoke" else row.get("not_comparable", "")
    tolerance, why = _tolerance(row, kind, derived)
    reported = row.get("reported")
    return {
        "experiment": row["experiment"],
        "report": row.get("report", ""),
        "reported": reported,
        "ours": ours,
        "mean": float(np.mean(ours)),
        "std": float(np.std(ours, ddof=1)) if len(ours) > 1 else None,
        "n": len(ours),
        "half_width": prediction_interval(ours)[1] if len(ours) > 1 else None,
        "kind": kind,
        "derived": derived,
        "tolerance": tolerance,
        "tolerance_reason": why,
        "not_comparable": reason,
        "verdict": verdict(
            reported,
            ours,
            tolerance=tolerance,
            not_comparable=reason,
            kind=kind,
            derived=derived,
        ),
        "note": "; ".join(x for x in (reason, row.get("note", "")) if x),
    }


def compare(rows: Sequence[Mapping], *, profile: str = "") -> list[dict]:
    """Each row with its statistics and verdict (rule 2), as plain data (what the
    table shows and stores).

    A row: ``experiment``, ``report`` (tag, e.g. ``"R3"``), ``reported`` (number or
    None), ``ours`` (one value per seed); optionally ``kind`` (one of :data:`KINDS`,
    default ``"accuracy"``), ``derived=True`` (a number read off a curve, such as the
    epoch of the best), ``tolerance`` with ``tolerance_reason``, ``not_comparable``
    (the reason) and ``note``. In the ``smoke`` profile every row is not comparable.
    """
    return [_compared(row, profile) for row in rows]


def frame(compared: Sequence[Mapping], digits: int = 4):
    """A pandas table of :func:`compare`'s rows, for display."""
    import pandas as pd

    def shown(r):
        kind = r.get("kind", "accuracy")
        half, tolerance = r.get("half_width"), r.get("tolerance")
        return {
            "experiment": r["experiment"],
            "report": r["report"],
            "reported": "—" if r["reported"] is None else f"{r['reported']:g}",
            "ours (mean ± std)": mean_std(r["ours"], digits, kind=kind),
            "one more run (95%)": "—"
            if half is None
            else f"{number(r['mean'], kind, digits)} ± {short(half, kind)}",
            "tolerance": "—" if tolerance is None else f"± {short(tolerance, kind)}",
            "difference": "—"
            if r["reported"] is None
            else _signed(r["mean"] - r["reported"], kind, digits),
            "verdict": r["verdict"],
            "note": r["note"],
        }

    table = pd.DataFrame(shown(r) for r in compared).set_index("experiment")
    if not table["note"].astype(bool).any():
        table = table.drop(columns="note")
    return table


def _signed(value: float, kind: str, digits: int) -> str:
    text = number(value, kind, digits)
    return text if text.startswith("-") else "+" + text


def reported_vs_ours(
    rows: Sequence[Mapping], *, profile: str | None = None, digits: int = 4
):
    """Show the reported-vs-ours table with verdicts and store it in the
    output's metadata (``{"results": ..., "profile": ..., "rule": 2}``).

    Returns the compared rows (:func:`compare`), for statements computed from them.
    """
    from IPython.display import publish_display_data

    from . import profile as profiles

    profile = profiles.current() if profile is None else profiles.validate(profile)
    compared = compare(rows, profile=profile)
    table = frame(compared, digits)
    publish_display_data(
        {"text/html": table.to_html(), "text/plain": table.to_string()},
        metadata={
            METADATA_KEY: {"results": compared, "profile": profile, "rule": RULE}
        },
    )
    return compared


# --- statements -------------------------------------------------------------------


VERDICTS = (REPRODUCED, "differs", "inconclusive", NOT_COMPARABLE)

# Why a verdict is inconclusive, by the words :func:`verdict` writes.
INCONCLUSIVE_BECAUSE = {
    f"n < {MIN_RUNS}": f"(n < {MIN_RUNS})",
    "interval too wide": "wider than the tolerance",
    "derived without tolerance": "(derived: no tolerance stated)",
}

# What kind of reason makes a row not comparable, by the words the labs' reasons use
# (regular expressions, case ignored); a reason may name several.
NOT_COMPARABLE_BECAUSE = {
    "smoke run": re.escape(SMOKE_REASON),
    "substitute data": r"substitute data|for EMNIST|ants vs bees",
    "other net": r"substitute net|EfficientNet-Lite0 for|not MobileNet",
    "reduced budget": r"reduced budget|\b\d[\d,]* of R\d's \d",
    "other setting": r"another configuration|first stage:",
    "other method": r"statistics recomputed|rule is ours",
}


def verdict_head(verdict: str) -> str:
    """A verdict without its detail: one of :data:`VERDICTS`."""
    for head in VERDICTS:
        if verdict.startswith(head):
            return head
    raise ValueError(f"{verdict!r} is no verdict: one of {', '.join(VERDICTS)}")


def why_inconclusive(verdict: str) -> str:
    """The reason of an *inconclusive* verdict: a key of
    :data:`INCONCLUSIVE_BECAUSE`."""
    for reason, words in INCONCLUSIVE_BECAUSE.items():
        if words in verdict:
            return reason
    raise ValueError(f"{verdict!r} is not an inconclusive verdict")


def why_not_comparable(reason: str) -> list[str]:
    """The kinds of reason a *not comparable* reason names (keys of
    :data:`NOT_COMPARABLE_BECAUSE`), or ``['other']``."""
    found = [
        kind
        for kind, words in NOT_COMPARABLE_BECAUSE.items()
        if re.search(words, reason, re.IGNORECASE)
    ]
    return found or ["other"]


def tally(compared: Sequence[Mapping]) -> str:
    """``'2 of 5 comparable numbers reproduced, 1 differs, 2 inconclusive; 3 not
    comparable'``: the table in one sentence."""
    heads = [verdict_head(r["verdict"]) for r in compared]
    counts = {label: heads.count(label) for label in VERDICTS}
    comparable = len(heads) - counts[NOT_COMPARABLE]
    text = f"{counts[REPRODUCED]} of {comparable} comparable numbers reproduced"
    if counts["differs"]:
        text += f", {counts['differs']} differ{'s' * (counts['differs'] == 1)}"
    if counts["inconclusive"]:
        text += f", {counts['inconclusive']} inconclusive"
    if counts[NOT_COMPARABLE]:
        text += f"; {counts[NOT_COMPARABLE]} not comparable"
    return text


def decision_tally(agrees: Sequence[bool | None], report: str) -> str:
    """``'decided as R4 at 2 of 3 decided steps; 1 undecided'``: one entry a step,
    True/False whether our decision matches the report's, None where ours was
    undecided (within noise)."""
    decided = [a for a in agrees if a is not None]
    text = f"decided as {report} at {sum(decided)} of {len(decided)} decided steps"
    undecided = len(agrees) - len(decided)
    return text + (f"; {undecided} undecided" if undecided else "")


def ranking(
    scores: Mapping[str, Sequence[float]], *, higher_is_better: bool = True
) -> list[str]:
    """Names ordered from best to worst by their mean score."""
    means = {name: float(np.mean(values)) for name, values in scores.items()}
    return sorted(means, key=means.get, reverse=higher_is_better)


def welch_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Welch's two-sample t-test: the two-sided p-value that ``a`` and ``b`` have the
    same mean; None with fewer than 3 runs in either."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if min(len(a), len(b)) < MIN_RUNS:
        return None
    if a.std() == 0 and b.std() == 0:  # no noise at all: any gap is real
        return 0.0 if a.mean() != b.mean() else 1.0
    from scipy import stats

    # from the summary statistics: the same test as stats.ttest_ind(a, b,
    # equal_var=False), without its precision warning when one sample is constant
    return float(
        stats.ttest_ind_from_stats(
            a.mean(),
            a.std(ddof=1),
            len(a),
            b.mean(),
            b.std(ddof=1),
            len(b),
            equal_var=False,
        ).pvalue
    )


def separated(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when Welch's t-test says the means of ``a`` and ``b`` differ (p < 0.05,
    at least 3 runs each); never with fewer runs: they cannot tell noise from an
    effect."""
    p = welch_p(a, b)
    return p is not None and p < ALPHA


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def spread(a: Sequence[float], b: Sequence[float]) -> str:
    """What the runs say of the difference between ``a`` and ``b``: ``'beyond noise
    (Welch's t-test, p = 0.003, n = 3 and 3)'``, ``'a tie within noise (...)'`` or
    ``'undecided: ...'``."""
    p = welch_p(a, b)
    if p is None:
        return (
            f"undecided: Welch's t-test needs {MIN_RUNS} runs each "
            f"(n = {len(a)} and {len(b)})"
        )
    where = "beyond noise" if p < ALPHA else "a tie within noise"
    return f"{where} (Welch's t-test, {_p(p)}, n = {len(a)} and {len(b)})"


def leader(
    scores: Mapping[str, Sequence[float]], *, higher_is_better: bool = True
) -> str | None:
    """The name that ranks first when it beats the runner-up beyond noise
    (:func:`separated`); None for a tie within noise or too few runs."""
    order = ranking(scores, higher_is_better=higher_is_better)
    if len(order) == 1 or separated(scores[order[0]], scores[order[1]]):
        return order[0]
    return None


def first_place(
    scores: Mapping[str, Sequence[float]], *, higher_is_better: bool = True
) -> str:
    """``'**conv** ranks first, ahead of dense beyond noise (...)'``, or ``'no first
    place: conv vs dense, a tie within noise (...)'``."""
    first, second = ranking(scores, higher_is_better=higher_is_better)[:2]
    phrase = spread(scores[first], scores[second])
    if leader(scores, higher_is_better=higher_is_better) == first:
        return f"**{first}** ranks first, ahead of {second} {phrase}"
    return f"no first place: {first} vs {second}, {phrase}"


def say(text: str) -> None:
    """Show a computed statement as Markdown (rendered in Jupyter, Colab and
    the book)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


FLAT_TEXT = (
    "trained until flat (our rule): over the last fifth of its epochs, the mean "
    "validation accuracy over the seeds gains under one point"
)


def end_gap(history: Mapping, epoch: int | None = None) -> float:
    """Training minus validation accuracy in ``history`` at ``epoch`` (1-based; None:
    the last epoch): positive when the net does better on the images it trains on."""
    i = -1 if epoch is None else epoch - 1
    return float(history["accuracy"][i] - history["val_accuracy"][i])


def plateau(
    histories: Sequence[Mapping], key: str = "val_accuracy", points: float = 0.01
) -> tuple[float, bool]:
    """(gain, flat) of the seeds' mean curve ``key`` over the last fifth of its epochs
    (at least two): the gain from the start of that stretch to its best, and whether
    it is under ``points`` (:data:`FLAT_TEXT`)."""
    curve = np.mean([h[key] for h in histories], axis=0)
    tail = curve[-max(2, len(curve) // 5) - 1 :]
    gain = float(tail.max() - tail[0])
    return gain, gain < points
