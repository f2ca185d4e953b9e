"""The Keras-basics lab's own pieces (R3): the logistic map and its forecasts, the XOR
surfaces, predictions against the truth, and the tables that summarise its learning
curves.

Models live in :mod:`helpers.models_keras`, training in :mod:`helpers.train`; this
module holds what only this lab needs, so its page keeps to short cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import findings
from ..plots import legend_under_axes, panel_grid


def logistic_map(steps: int, x0: float) -> np.ndarray:
    """x(0) = ``x0`` and ``steps`` iterations of x(t) = 4·x(t−1)·(1−x(t−1)), float32
    (``steps + 1`` values)."""
    if not 0.0 <= x0 <= 1.0:
        raise ValueError(f"x0={x0}: the logistic map maps [0, 1] into itself only.")
    x = [float(x0)]
    for _ in range(steps):
        x.append(4 * x[-1] * (1 - x[-1]))
    return np.array(x, dtype="float32")


def free_run(model, x0: float, steps: int) -> np.ndarray:
    """The model's own forecast: start at ``x0``, feed each prediction back in as the
    next input; returns the ``steps`` predictions x̂(1) ... x̂(steps)."""
    x, out = float(x0), []
    for _ in range(steps):
        x = float(np.ravel(model.predict_on_batch(np.array([[x]], "float32")))[0])
        out.append(x)
    return np.array(out, dtype="float32")


def steps_until_off(forecast, truth, threshold: float = 0.1) -> int | None:
    """The first step (1-based) where ``|forecast - truth| > threshold``; None if
    never."""
    off = np.flatnonzero(np.abs(np.asarray(forecast) - np.asarray(truth)) > threshold)
    return int(off[0]) + 1 if len(off) else None


def chaos_horizon(one_step_error: float, threshold: float = 0.1) -> float:
    """The step at which an error of ``one_step_error`` at step 1 passes ``threshold``
    if it doubles at every step, as it does on average for this map (its Lyapunov
    exponent is ln 2): 1 + log2(threshold / error)."""
    if one_step_error <= 0:
        raise ValueError("the one-step error must be positive")
    return float(1 + max(np.log2(threshold / one_step_error), 0.0))


def training_stop(history: Mapping[str, Sequence[float]], max_epochs: int, patience):
    """What early stopping did, as a sentence: the best epoch of ``val_loss`` and
    whether training stopped because it no longer improved or ran out of epochs."""
    ran = len(history["val_loss"])
    best = int(np.argmin(history["val_loss"])) + 1
    if ran < max_epochs:
        return (
            f"stopped early: no lower validation loss in the {patience} epochs after "
            f"epoch {best}, so training ended at epoch {ran} with the weights of "
            f"epoch {best}"
        )
    return (
        f"did not converge within {max_epochs} epochs: the validation loss was "
        f"still improving (best at epoch {best} of {ran})"
    )


def plot_xor_surfaces(models: Mapping[str, object], x, y, accuracy: Mapping, n=61):
    """The output of each net over the plane around the unit square, with the four
    XOR points (circles: 0, triangles: 1); one panel per net, at most two a row."""
    ticks = np.linspace(-0.25, 1.25, n)
    g1, g2 = np.meshgrid(ticks, ticks)
    grid = np.stack([g1.ravel(), g2.ravel()], axis=1).astype("float32")
    fig, axes = panel_grid(len(models), (7, 3.2), sharex=True, sharey=True)
    for ax, (name, model) in zip(axes, models.items()):
        surface = np.asarray(model.predict(grid, verbose=0)).reshape(n, n)
        levels = np.linspace(0, 1, 11)
        filled = ax.contourf(g1, g2, surface, levels=levels, cmap="RdBu_r")
        for label, marker in ((0, "o"), (1, "^")):
            ax.plot(
                *np.asarray(x)[np.asarray(y) == label].T,
                marker,
                color="black",
                markersize=8,
                linestyle="none",
            )
        ax.set_title(f"{name}\naccuracy {accuracy[name]:.2f}", fontsize=10)
        ax.set_aspect("equal")
        ax.set(xlabel="x1", ylabel="x2")
        ax.label_outer()
    fig.colorbar(filled, ax=axes, label="net output (probability of 1)")
    fig.suptitle("XOR: output of each net over the input plane (first seed)")
    return fig


def predicted_vs_true(
    y_true,
    y_pred,
    quantity: str,
    unit: str = "",
    title: str = "Predicted vs true",
    figsize=(5, 5),
    ax=None,
):
    """Scatter of predictions against true values with the diagonal y = x (a
    perfect model).

    ``quantity`` and ``unit`` label both axes, e.g. ``"median house value", "$1000s"``.
    """
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    low, high = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot(
        [low, high], [low, high], "--", color="grey", label="perfect prediction (y = x)"
    )
    ax.plot(y_true, y_pred, "o", markersize=3, alpha=0.6, label="test examples")
    unit = f" ({unit})" if unit else ""
    ax.set_xlabel(f"true {quantity}{unit}")
    ax.set_ylabel(f"predicted {quantity}{unit}")
    ax.set_title(title)
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    ax.figure.tight_layout()
    return ax.figure


def plot_forecast(truth, one_step, forecast, title: str = "First test steps"):
    """Two panels: one-step predictions against the truth (every test pair), and the
    first steps over time: truth, one-step predictions and the free-running forecast
    (the band [0, 1] the map never leaves is shaded)."""
    truth, one_step = np.ravel(truth), np.ravel(one_step)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2]}
    )
    predicted_vs_true(truth, one_step, "x(t)", title="Test pairs: one step", ax=left)
    steps = np.arange(1, len(forecast) + 1)
    right.axhspan(0, 1, color="grey", alpha=0.08, label="[0, 1], where the map lives")
    right.plot(steps, truth[: len(forecast)], "k-o", markersize=3, label="true x(t)")
    right.plot(steps, one_step[: len(forecast)], "x", label="one-step prediction")
    right.plot(steps, forecast, "--", label="free-running forecast")
    right.set(xlabel="step t", ylabel="x(t) (unitless)", title=title)
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    legend_under_axes(right, ncol=4, fontsize=8)
    fig.tight_layout()
    return fig


CURVE_SUMMARY = {
    "validation accuracy, epoch 1": lambda r: r.history["val_accuracy"][0],
    "best validation accuracy": lambda r: r.best("val_accuracy")[0],
    "epoch of lowest validation loss": lambda r: r.best("val_loss")[1],
    "train − validation accuracy, last epoch": lambda r: (
        r.history["accuracy"][-1] - r.history["val_accuracy"][-1]
    ),
    "validation loss rise above its minimum": lambda r: (
        r.history["val_loss"][-1] - min(r.history["val_loss"])
    ),
    "final training accuracy": lambda r: r.history["accuracy"][-1],
    "test accuracy": lambda r: r.test["accuracy"],
}
"""What :func:`curve_summary` reads off each run's curves (one value per run)."""


def per_seed(runs, row: str) -> list[float]:
    """One :data:`CURVE_SUMMARY` quantity for each run (seed)."""
    return [float(CURVE_SUMMARY[row](r)) for r in runs]


def per_variant(runs_by_name: Mapping[str, Sequence], row: str) -> dict:
    """One :data:`CURVE_SUMMARY` quantity per seed, for each named list of runs."""
    return {name: per_seed(runs, row) for name, runs in runs_by_name.items()}


def curve_summary(runs_by_name: Mapping[str, Sequence], digits: int = 3):
    """A table: for each named list of runs (one per seed), the mean over seeds of
    every :data:`CURVE_SUMMARY` quantity."""
    import pandas as pd

    return pd.DataFrame(
        {
            name: {row: float(np.mean(per_seed(runs, row))) for row in CURVE_SUMMARY}
            for name, runs in runs_by_name.items()
        }
    ).round(digits)


def claim(
    what: str,
    values: Mapping[str, Sequence[float]],
    r3: str | None,
    *,
    higher: bool = True,
    digits: int = 3,
) -> str:
    """One computed finding as a Markdown bullet: the means of ``values`` (one list of
    per-seed values per name), whether the first beats the runner-up beyond noise
    (:func:`findings.first_place`: Welch's t-test at 95%), and whether that agrees
    with R3.

    ``r3``: the name R3 found first, or None where R3 found them alike.
    ``higher=False``: the smallest value comes first.
    """
    ranked = findings.ranking(values, higher_is_better=higher)
    means = ", ".join(f"{name} {np.mean(values[name]):.{digits}f}" for name in ranked)
    first = findings.leader(values, higher_is_better=higher)
    if r3 is None:
        agree = (
            "as R3 found: alike"
            if first is None
            else "unlike R3, which found them alike"
        )
    elif first is None:
        agree = f"R3 put {r3} first; here no first place"
    else:
        agree = "as R3 found" if first == r3 else f"unlike R3, where {r3} came first"
    place = findings.first_place(values, higher_is_better=higher)
    return f"- {what} (means: {means}): {place}; {agree}."


def gap_at(run, epoch: int | None = None) -> float:
    """Training minus validation accuracy of ``run`` at ``epoch`` (1-based; None: the
    last epoch): how far it overfits there."""
    return findings.end_gap(run.history, epoch)


def majority_share(labels) -> float:
    """The share of the most frequent class in ``labels``: the accuracy of always
    guessing it (chance)."""
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    return float(counts.max() / counts.sum())


def learning_from_start(runs, chance: float, n_val: int, epochs: int = 2) -> str:
    """Whether the validation accuracy of the first ``epochs`` epochs is above
    ``chance`` beyond sampling noise (more than twice the binomial standard deviation
    of an accuracy ``chance`` measured on ``n_val`` examples), seed by seed, as a
    Markdown bullet."""
    noise = float(np.sqrt(chance * (1 - chance) / n_val))
    parts, learned = [], []
    for epoch in range(1, epochs + 1):
        values = [r.history["val_accuracy"][epoch - 1] for r in runs]
        above = sum(v > chance + 2 * noise for v in values)
        learned.append(above == len(runs))
        parts.append(
            f"epoch {epoch}: {np.mean(values):.3f} (above chance in {above} of "
            f"{len(runs)} seeds)"
        )
    if learned[0]:
        verdict = "it learns from the first epoch, unlike R3's flat start"
    elif any(learned):
        verdict = f"it learns by epoch {learned.index(True) + 1} in every seed"
    else:
        verdict = f"no learning in the first {epochs} epochs, as R3 saw"
    return (
        f"- Validation accuracy (mean over seeds) against chance {chance:.3f} ± "
        f"{2 * noise:.3f} (always the majority class; twice the binomial std on "
        f"{n_val:,} reviews): {'; '.join(parts)}. So **{verdict}**."
    )
