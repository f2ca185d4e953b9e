"""The permuted-MNIST lab's own measures: how soon a net's validation accuracy nears
its end value, how far training accuracy ends ahead of validation, and R3's claims
about them checked against noise (:mod:`helpers.findings`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import findings
from ..findings import end_gap  # noqa: F401  (the page calls lab.end_gap)

NEAR_END = 0.99
"""Our convergence threshold: a net has converged at the first epoch whose validation
accuracy reaches this fraction of its last epoch's (R3 states none)."""


def epochs_to_converge(
    history: Mapping, fraction: float = NEAR_END, key: str = "val_accuracy"
) -> int:
    """The first (1-based) epoch at which ``history[key]`` reaches ``fraction`` of its
    last epoch's value."""
    curve = np.asarray(history[key], dtype=float)
    return int(np.argmax(curve >= fraction * curve[-1])) + 1


def at_chance(values: Sequence[float], classes: int = 10) -> bool:
    """True when the mean accuracy is under twice chance (our margin): such a net
    has learnt too little to be compared with another."""
    return float(np.mean(values)) < 2 / classes


def claim_verdict(larger: Sequence[float], smaller: Sequence[float]) -> str:
    """A report's claim that ``larger`` has the larger mean, checked on our runs:
    *agrees*, *contradicts* (both beyond noise, Welch at 95%), *tie within noise*,
    or *undecided* (fewer than 3 runs each)."""
    if findings.welch_p(larger, smaller) is None:
        return "undecided"
    if not findings.separated(larger, smaller):
        return "tie within noise"
    return "agrees" if np.mean(larger) > np.mean(smaller) else "contradicts"


def no_change_verdict(a: Sequence[float], b: Sequence[float]) -> str:
    """A report's claim that ``a`` and ``b`` hardly differ: *agrees* for a tie within
    noise, *contradicts* for a difference beyond it, or *undecided*."""
    if findings.welch_p(a, b) is None:
        return "undecided"
    return "contradicts" if findings.separated(a, b) else "agrees"


def claim_line(
    claim: str, larger, smaller, *, alike: bool = False, report: str = "R3"
) -> str:
    """One Markdown bullet: a report's claim, our verdict on it and what Welch's test
    said of the two sets of runs. The claim is that ``larger`` has the larger mean,
    or with ``alike=True`` that the two hardly differ."""
    check = no_change_verdict if alike else claim_verdict
    verdict = check(larger, smaller)
    words = {"agrees": f"agrees with {report}", "contradicts": f"contradicts {report}"}
    shown = words.get(verdict, verdict)
    return f"- {report}: {claim}: **{shown}** ({findings.spread(larger, smaller)})."


def nets_at_chance(accuracy: Mapping, classes: int = 10) -> list[str]:
    """``'net, variant'`` for every entry of ``accuracy[net][variant] = [per seed]``
    that is at chance (:func:`at_chance`)."""
    return [
        f"{net}, {variant}"
        for net, variants in accuracy.items()
        for variant, values in variants.items()
        if at_chance(values, classes)
    ]
