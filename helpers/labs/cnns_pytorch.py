"""What only the CNNs-in-PyTorch lab computes: R2's two questions about a net's curves
(high bias or overfitting? would more epochs help?) answered from the seeds' runs, by
rules stated in the answers themselves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import findings


def loss_turn(history: Mapping, at: int | None = None) -> tuple[int, float, float]:
    """(epoch of the lowest validation loss, the validation loss's change from there
    to epoch ``at``, the training loss's change over the same epochs) of one run's
    ``history``, up to epoch ``at`` (default: the last)."""
    val = np.asarray(history["val_loss"][:at], float)
    fit = np.asarray(history["loss"][:at], float)
    low = int(np.argmin(val))
    return low + 1, float(val[-1] - val[low]), float(fit[-1] - fit[low])


def curve_facts(
    histories: Sequence[Mapping], at: int, train_accuracy: Sequence[float]
) -> dict:
    """The facts R2's questions need, from the seeds' ``histories`` up to epoch
    ``at``: the plateau of the mean validation accuracy (:func:`findings.plateau`), the
    best epoch per seed, the validation loss at the mean curve's lowest epoch against
    epoch ``at`` (Welch), and the training accuracy measured without Dropout at epoch
    ``at`` (``train_accuracy``, one per seed) against the validation accuracy."""
    hs = [{k: list(v[:at]) for k, v in h.items()} for h in histories]
    gain, flat = findings.plateau(hs)
    low = int(np.argmin(np.mean([h["val_loss"] for h in hs], axis=0)))
    at_low = [h["val_loss"][low] for h in hs]
    at_end = [h["val_loss"][-1] for h in hs]
    val = [h["val_accuracy"][-1] for h in hs]
    train = [float(a) for a in train_accuracy]
    return dict(
        at=at,
        gain=gain,
        flat=flat,
        best_epochs=[int(np.argmax(h["val_accuracy"])) + 1 for h in hs],
        low=low + 1,
        rise=float(np.mean(at_end) - np.mean(at_low)),
        rise_spread=findings.spread(at_end, at_low),
        rose=findings.separated(at_end, at_low) and np.mean(at_end) > np.mean(at_low),
        fit_change=float(np.mean([h["loss"][-1] - h["loss"][low] for h in hs])),
        running=[h["accuracy"][-1] for h in hs],
        train=train,
        val=val,
        fits_better=findings.separated(train, val) and np.mean(train) > np.mean(val),
        gap_spread=findings.spread(train, val),
    )


def answers(f: Mapping) -> list[str]:
    """R2's two questions, and why validation can lie above training, answered in
    words from :func:`curve_facts` (each line states its rule)."""
    at, mean = f["at"], lambda v: float(np.mean(v))
    overfit = f["rose"] and f["fit_change"] < 0
    start = at - max(2, at // 5)
    more = (
        "yes, the curve is still rising"
        if not f["flat"]
        else "no: the curve is flat and the validation loss rises"
        if overfit
        else "little: the curve is flat"
    )
    above = sum(v > r for v, r in zip(f["val"], f["running"]))
    return [
        f"**Overfitting?** {'yes' if overfit else 'no sign of it'}: the seeds' mean "
        f"validation loss is lowest at epoch {f['low']} of {at}; from there to epoch "
        f"{at} it moved {f['rise']:+.4f}, {f['rise_spread']}, while the training loss "
        f"moved {f['fit_change']:+.4f} (our rule: overfitting when the validation loss "
        "rises beyond noise while the training loss falls).",
        f"**High bias?** {'no' if f['fits_better'] else 'yes'}: without Dropout, at "
        f"epoch {at}, training accuracy {mean(f['train']):.4f} against validation "
        f"accuracy {mean(f['val']):.4f}, {f['gap_spread']} (our rule: high bias when "
        "the net fits its own training images no better than unseen ones).",
        f"**More epochs?** {more}: from epoch {start} to {at} the mean validation "
        f"accuracy gained {100 * f['gain']:.2f} points ({findings.FLAT_TEXT}: "
        f"{'flat' if f['flat'] else 'not flat'}); best epoch per seed "
        f"{f['best_epochs']}.",
        f"**Validation above training?** at epoch {at}, validation accuracy "
        f"{mean(f['val']):.4f}, training accuracy as the loop reports it (Dropout on, "
        f"a running mean over the epoch) {mean(f['running']):.4f}, without Dropout at "
        f"the epoch's end {mean(f['train']):.4f}; validation above the reported "
        f"training accuracy in {above} of {len(f['val'])} seeds.",
    ]
