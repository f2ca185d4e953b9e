"""Greedy ablation studies: named changes to one base configuration, each kept only if
it helps.

A configuration is a flat dict naming everything a run depends on: the options of
:func:`models_keras.basenet` (``blocks``, ``kernel_size``, ``dense``, ``batchnorm``,
``dropout``; R4's deeper nets are ``models_keras.R4_NET_1`` and ``R4_NET_2``, its
Dropout ``dropout="r4"``), the input steps (``normalize``, ``flip``, ``zoom``) and the
training (``optimizer``, ``learning_rate``, ``epochs``, ``batch_size``, ``n_train``). A
step is a dict::

    {"step": "zoom 0.2", "change": {"flip": False, "zoom": 0.2}, "family": "zoom"}

:func:`greedy` applies each step's ``change`` to the best configuration so far, runs it
for every seed (a function ``config -> list[train.Run]``, e.g. :meth:`Runner.__call__`)
and keeps it only if the mean validation accuracy improves (:func:`keep_if_better`). A
step with ``"decide": False`` (a change of budget, say) is always taken and becomes the
new reference; with a ``"why"`` too (a choice the report made, say), that text is its
reason and its decision is ``"taken"``. Identical configurations run once.
:func:`table` turns the result into a pandas DataFrame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from . import models_keras, plots, train

if TYPE_CHECKING:
    import keras

BASENET = dict(
    blocks=((6,), (16,)),
    kernel_size=5,
    dense=(50,),
    normalize=False,
    flip=False,
    zoom=0.0,
    batchnorm=None,
    dropout=0.0,
    optimizer="sgd",
    learning_rate=0.01,
    epochs=30,
    batch_size=32,
    n_train=None,
)
"""R4's baseline: BaseNet, no normalisation or augmentation, SGD 0.01, batch 32,
30 epochs."""

NONE_MEANS = {"n_train": "all", "learning_rate": "Keras default", "batchnorm": "none"}
MODEL_OPTIONS = ("blocks", "kernel_size", "dense", "batchnorm", "dropout")


def adapted_normalization(images) -> keras.layers.Normalization:
    """A ``layers.Normalization`` adapted on ``images`` (N, H, W, C): per-channel
    mean and variance, the feature-wise centring and scaling of R4, as a layer inside
    the model."""
    from keras import layers

    norm = layers.Normalization(axis=-1)
    norm.adapt(np.asarray(images, dtype="float32"))
    return norm


def build_model(
    config: dict, num_classes: int, input_shape=(32, 32, 3), normalization=None
):
    """The BaseNet variant a configuration names, with fresh augmentation and
    normalisation layers.

    ``normalization``: an adapted ``layers.Normalization`` whose statistics are copied
    when ``config["normalize"]`` is true (required then).
    """
    import keras
    from keras import layers

    augment = None
    if config["flip"] or config["zoom"]:
        augment = models_keras.augmentation(flip=config["flip"], zoom=config["zoom"])
    normalize = None
    if config["normalize"]:
        if normalization is None:
            raise ValueError(
                "config['normalize'] is true: pass an adapted layers.Normalization."
            )
        stats = [
            np.ravel(keras.ops.convert_to_numpy(v))
            for v in (normalization.mean, normalization.variance)
        ]
        normalize = layers.Normalization(axis=-1, mean=stats[0], variance=stats[1])
    return models_keras.basenet(
        num_classes,
        input_shape,
        augment=augment,
        normalize=normalize,
        **{k: config[k] for k in MODEL_OPTIONS},
    )


def make_optimizer(config: dict):
    """A fresh Keras optimizer: ``config["optimizer"]`` by name (``"sgd"``,
    ``"adagrad"``, ``"rmsprop"``, ``"adadelta"``, ``"adam"``), at
    ``config["learning_rate"]`` or, if that is None, at Keras' default rate for it."""
    import keras

    optimizer = keras.optimizers.get(config["optimizer"])
    if config.get("learning_rate") is not None:
        optimizer.learning_rate = config["learning_rate"]
    return optimizer


def final_validation(
    runs: Sequence[train.Run], metric: str = "val_accuracy"
) -> np.ndarray:
    """The last epoch's ``metric`` of each run (the model that is tested is the last
    one too)."""
    return np.array([run.history[metric][-1] for run in runs], dtype=float)


def keep_if_better(
    best_runs, candidate_runs, metric: str = "val_accuracy"
) -> tuple[bool, str]:
    """The greedy rule: keep the candidate if its mean final ``metric`` beats the
    current best's.

    Returns (keep, why), e.g. ``(True, "validation 0.5312 vs 0.5101 (+0.0211)")``.
    """
    best, candidate = (
        final_validation(best_runs, metric).mean(),
        final_validation(candidate_runs, metric).mean(),
    )
    return bool(
        candidate > best
    ), f"validation {candidate:.4f} vs {best:.4f} ({candidate - best:+.4f})"


def describe(change: dict) -> str:
    """A change as short text: ``"flip=False, zoom=0.2"``; None shows what it means for
    the option (``n_train=all``, ``learning_rate=Keras default``)."""
    return (
        ", ".join(
            f"{k}={NONE_MEANS.get(k, 'None') if v is None else v}"
            for k, v in change.items()
        )
        or "—"
    )


def _key(config: dict) -> str:
    return repr(sorted(config.items()))


@dataclass
class Result:
    """What :func:`greedy` found: one row per step (its runs and decision) and the
    final best."""

    rows: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=dict)

    def row(self, step: str) -> dict:
        """The row of the step named ``step``."""
        for row in self.rows:
            if row["step"] == step:
                return row
        raise KeyError(
            f"no step named {step!r}; steps: {[r['step'] for r in self.rows]}"
        )

    def best_after(self, step: str) -> dict:
        """The row of the best configuration once ``step`` was decided (the last
        one kept)."""
        best = self.rows[0]
        for row in self.rows:
            taken = row["decision"] in ("kept", "budget", "taken")
            if row is not self.rows[0] and taken:
                best = row
            if row["step"] == step:
                return best
        raise KeyError(
            f"no step named {step!r}; steps: {[r['step'] for r in self.rows]}"
        )

    def family(
        self, family: str, metric: str = "val_accuracy"
    ) -> dict[str, list[dict]]:
        """Histories for one family of steps, the reference it started from first:
        ``{label: [history per seed]}`` (for :func:`plots.curve_panels`)."""
        rows = [r for r in self.rows if r.get("family") == family]
        if not rows:
            raise KeyError(f"no steps in family {family!r}")
        reference = rows[0]["reference_runs"]
        same = [
            r["step"] for r in rows if r["runs"] is reference
        ]  # a step that repeats the reference
        label = f"{same[0]} = " if same else ""
        curves = {
            f"{label}reference ({rows[0]['reference']})": [
                run.history for run in reference
            ]
        }
        curves.update(
            {
                r["step"]: [run.history for run in r["runs"]]
                for r in rows
                if r["runs"] is not reference
            }
        )
        return curves


def greedy(
    base: dict,
    steps: Sequence[dict],
    run: Callable[[dict], list],
    metric: str = "val_accuracy",
    reference: str = "baseline",
) -> Result:
    """Run ``base`` (named ``reference``), then each step on top of the best
    configuration so far.

    ``run(config)`` returns the runs of one configuration (one per seed). A step's
    ``change`` updates the current best; with ``"decide": False`` it is always taken
    (e.g. a smaller training budget, which also re-runs the best configuration as the
    new reference; its decision is ``"budget"``, or ``"taken"`` with the step's own
    ``"why"``, e.g. a choice the report made); otherwise :func:`keep_if_better`
    decides. A configuration met before is not run again.
    """
    unknown = {k for s in steps for k in s["change"]} - set(base)
    if unknown:
        raise ValueError(
            f"steps change options the base configuration lacks: {sorted(unknown)}"
        )
    done: dict[str, list] = {}

    def runs_of(config):
        if _key(config) not in done:
            done[_key(config)] = run(dict(config))
        return done[_key(config)]

    best, best_name = dict(base), reference
    result = Result(
        rows=[
            dict(
                step=reference,
                family=None,
                change="—",
                config=dict(best),
                runs=runs_of(best),
                decision="reference",
                why="the starting point",
            )
        ]
    )
    for step in steps:
        candidate = {**best, **step["change"]}
        reference_runs = runs_of(best)
        runs = runs_of(candidate)
        if not step.get("decide", True):
            keep, why = (
                True,
                "a change of budget: the new reference"
                if _key(candidate) != _key(best)
                else "no change",
            )
            decision = "budget"
            if step.get("why"):
                why, decision = step["why"], "taken"
        elif _key(candidate) == _key(best):
            keep, why, decision = (
                False,
                "the current best configuration itself",
                "reference",
            )
        else:
            keep, why = keep_if_better(reference_runs, runs, metric)
            decision = "kept" if keep else "dropped"
        result.rows.append(
            dict(
                step=step["step"],
                family=step.get("family"),
                change=describe(step["change"]),
                config=candidate,
                runs=runs,
                decision=decision,
                why=why,
                reference=best_name,
                reference_runs=reference_runs,
            )
        )
        if keep:
            best, best_name = candidate, step["step"]
    result.best = best
    return result


def table(result: Result, digits: int = 4):
    """One row per step: the change, validation and test accuracy (mean ± std over
    seeds), the decision and why, and the training budget and minutes it took (a
    pandas DataFrame)."""
    import pandas as pd

    rows = []
    for row in result.rows:
        runs, config = row["runs"], row["config"]
        rows.append(
            {
                "step": row["step"],
                "change": row["change"],
                "validation accuracy": plots.mean_std(final_validation(runs), digits),
                "test accuracy": plots.mean_std(
                    [r.test["accuracy"] for r in runs], digits
                ),
                "decision": row["decision"],
                "why": row["why"],
                "images × epochs": f"{config['n_train'] or 'all'} × {config['epochs']}",
                "minutes": round(sum(r.seconds for r in runs) / 60, 1),
            }
        )
    return pd.DataFrame(rows).set_index("step")


@dataclass
class Runner:
    """Runs one configuration for every seed on one data set:
    ``runner(config) -> [Run, ...]``.

    ``data`` is ``((x_train, y_train), (x_test, y_test))``. Each seed holds out its own
    seeded ``validation_fraction`` of the training images (the split
    :func:`train.fit_keras` would make), the same for every configuration;
    ``config["n_train"]`` trains on the first that many of the rest (None: all), so a
    smaller training budget is still validated on all the held-out images.
    ``normalization``: an adapted ``layers.Normalization``
    (:func:`adapted_normalization`) for configurations with ``normalize``. ``bar``: a
    :func:`train.progress` bar whose total grows with each configuration run.
    """

    data: tuple
    num_classes: int
    seeds: Sequence[int]
    normalization: object = None
    validation_fraction: float = 0.1
    bar: object = None

    def __call__(self, config: dict) -> list:
        (x, y), test = self.data
        if self.bar is not None:
            self.bar.total = (self.bar.total or 0) + len(self.seeds) * config["epochs"]
        build = lambda: build_model(
            config, self.num_classes, x.shape[1:], self.normalization
        )  # noqa: E731
        runs = []
        for seed in self.seeds:
            (x_fit, y_fit), validation = train.split_validation(
                x, y, self.validation_fraction, seed
            )
            subset = ((x_fit[: config["n_train"]], y_fit[: config["n_train"]]), test)
            runs.append(
                train.fit_keras(
                    build,
                    subset,
                    seed=seed,
                    epochs=config["epochs"],
                    batch_size=config["batch_size"],
                    optimizer=lambda: make_optimizer(config),
                    validation_data=validation,
                    bar=self.bar,
                )
            )
        return runs
