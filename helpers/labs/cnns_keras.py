"""The Keras-CNN lab's own analyses: whether a net is clearly beyond chance, what each
run cost, and R3's three claims (first in accuracy, faster, more overfitted) each
checked with a two-sample test on the seeds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import findings

CHANCE_TEXT = (
    "clearly beyond chance (our rule): every seed's test accuracy is at least twice "
    "chance (1 / classes)"
)


def beyond_chance(accuracies: Sequence[float], n_classes: int) -> bool:
    """Whether every run's accuracy is at least twice chance (:data:`CHANCE_TEXT`)."""
    return bool(len(accuracies)) and min(accuracies) >= 2 / n_classes


def gaps(runs) -> list[float]:
    """Each run's final training minus validation accuracy, in points."""
    return [100 * findings.end_gap(r.history) for r in runs]


def at_epoch(runs, epoch: int, key: str = "val_accuracy") -> list[float]:
    """Each run's ``key`` after ``epoch`` (1-based)."""
    return [r.history[key][epoch - 1] for r in runs]


def cost_line(name: str, runs, n_images: int, epochs: int) -> str:
    """What one run of ``name`` cost: mean seconds a run (fit and validation, not the
    test) and training images a second."""
    seconds = float(np.mean([r.seconds for r in runs]))
    rate = n_images * epochs / seconds
    return (
        f"- **{name}**: {seconds:.0f} s a run ({len(runs)} runs, {epochs} epochs of "
        f"{n_images:,} images), {rate:.0f} training images a second"
    )


def claim_line(scores: Mapping[str, Sequence[float]], r3_first: str, what: str) -> str:
    """One of R3's claims checked on our seeds: ``scores[net]`` per seed (higher means
    the claim's "more"), ``r3_first`` the net R3 puts first. "as in R3" only when our
    first is R3's beyond noise (Welch 95%, >= 3 runs each)."""
    first, second = findings.ranking(scores)[:2]
    phrase = findings.spread(scores[first], scores[second])
    if findings.leader(scores) != first:
        return (
            f"- {what}: no first place, {first} vs {second}, {phrase} (R3: {r3_first})."
        )
    as_r3 = "as in R3" if first == r3_first else f"R3: {r3_first}"
    return f"- {what}: **{first}**, ahead of {second} {phrase} ({as_r3})."


def r3_claims(runs: Mapping, test: Mapping, epoch: int, first: str) -> list[str]:
    """R3's three claims for ``first`` (more accurate, ahead in validation accuracy
    after ``epoch``, more overfitted), each a :func:`claim_line`; ``runs[net]`` the
    runs, ``test[net]`` their test accuracies."""
    early = {net: at_epoch(r, epoch) for net, r in runs.items()}
    gap = {net: gaps(r) for net, r in runs.items()}
    epochs = len(next(iter(runs.values()))[0].history["val_accuracy"])
    return [
        claim_line(test, first, "Higher test accuracy"),
        claim_line(
            early, first, f"Higher validation accuracy after epoch {epoch} of {epochs}"
        ),
        claim_line(
            gap, first, "Larger final gap between training and validation accuracy"
        ),
    ]
