"""Greedy ablation studies: named changes to one base configuration, each kept only if
it helps.

A configuration is a flat dict naming everything a run depends on: the options of
:func:`r4_net` (``blocks``, ``kernel_size``, ``dense``, ``batchnorm``, ``dropout``;
R4's deeper nets are :data:`R4_NET_1` and :data:`R4_NET_2`, its Dropout
``dropout="r4"``), the input steps (``normalize``, ``flip``, ``zoom``) and the
training (``optimizer``, ``learning_rate``, ``epochs``, ``batch_size``, ``n_train``). A
step is a dict::

    {"step": "zoom 0.2", "change": {"flip": False, "zoom": 0.2}, "family": "zoom"}

:func:`greedy` applies each step's ``change`` to the best configuration so far, runs it
for every seed (a function ``config -> list[train.Run]``, e.g. :meth:`Runner.__call__`)
and keeps it only if the mean validation accuracy improves (:func:`keep_if_better`);
with ``rule="noise"`` a step is kept or dropped only when the seeds separate the two
means (:func:`helpers.findings.separated`), and is otherwise ``"undecided"`` and not
taken. A
step with ``"decide": False`` (a change of budget, say) is always taken and becomes the
new reference; with a ``"why"`` too (a choice the report made, say), that text is its
reason and its decision is ``"taken"``. Identical configurations run once.
:func:`table` turns the result into a pandas DataFrame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import layers

from . import findings, models_keras, train

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

R4_NET_1 = dict(blocks=((16, 32), (64, 128)), kernel_size=3, dense=(150,))
"""R4's first deeper net (its Cuadro 1), as :func:`r4_net` options: 3x3 convolutions
16, 32 | pool | 64, 128 | pool (5x5x128 = 3,200) → Dense 150 → Dense 25. 581,365 params
for 25 classes, counted from R4's table (R4 prints no counts)."""

R4_NET_2 = dict(blocks=((32, 64), (128, 256)), kernel_size=3, dense=(500, 150))
"""R4's second deeper net (its Cuadro 2): 32, 64 | pool | 128, 256 | pool
(5x5x256 = 6,400) → Dense 500 → Dense 150 → Dense 25; 3,667,841 params for 25 classes
(counted, as for net 1). With ``batchnorm="before"`` and ``dropout="r4"`` it is R4's
final model (Cuadro 3): 3,672,361, 2,260 of them BN statistics."""


def r4_dropout(blocks, dense, rate: float = 0.25, strong: float = 0.5) -> tuple:
    """R4's Dropout scheme for an :func:`r4_net` net, one rate per block and hidden
    Dense layer.

    ``rate`` everywhere, except ``strong`` after the last block and, in a net with two
    or more hidden Dense layers (R4's second net), after the first of them: (0.25, 0.5,
    0.25) for :data:`R4_NET_1`, (0.25, 0.5, 0.5, 0.25) for :data:`R4_NET_2`. R4's text
    puts the 0.5 "after the last convolutional layer"; where the layers go (after each
    block's pool, after each hidden Dense's ReLU) is its Cuadro 3, the only table that
    shows them.
    """
    after_blocks = [rate] * (len(blocks) - 1) + [strong]
    after_dense = [
        strong if i == 0 and len(dense) > 1 else rate for i in range(len(dense))
    ]
    return tuple(after_blocks + after_dense)


def r4_net(
    num_classes: int = 25,
    input_shape=(32, 32, 3),
    *,
    blocks=((6,), (16,)),
    kernel_size: int = 5,
    dense=(50,),
    augment: keras.Layer | None = None,
    normalize: keras.Layer | None = None,
    batchnorm: str | None = None,
    dropout: float | tuple[float, ...] | str = 0.0,
) -> keras.Model:
    """R4's BaseNet (``models_keras.basenet``) and the variations its improvement
    steps try, as options of one builder.

    ``blocks``: the filter counts of each block's convolutions (valid padding,
    ``kernel_size``, ReLU), a 2x2 max-pool ending each block; ``dense``: the hidden
    Dense widths (ReLU); then the softmax layer. The defaults are BaseNet; R4's deeper
    nets are :data:`R4_NET_1` and :data:`R4_NET_2` (``r4_net(**R4_NET_2)``).
    ``augment`` and ``normalize``: layers applied to the input, in that order (e.g.
    ``models_keras.augmentation()``, and :func:`adapted_normalization`'s layer).
    ``batchnorm``: ``None``, ``"before"`` or ``"after"`` the ReLU of every convolution
    and hidden Dense layer. ``dropout``: one rate after every block and hidden Dense
    layer, or one rate for each of them in order (0: none), or ``"r4"``: R4's scheme
    for this net, :func:`r4_dropout`.
    """
    rates = iter(_dropout_rates(dropout, blocks, dense))
    relu = _relu(batchnorm)
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for step in (augment, normalize):
        x = step(x) if step is not None else x
    for b, widths in enumerate(blocks, start=1):
        for i, width in enumerate(widths, start=1):
            name = f"conv{b}_{i}" if len(widths) > 1 else f"conv{b}"
            x = relu(layers.Conv2D(width, kernel_size, name=name)(x))
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(r)(x) if (r := next(rates)) else x
    x = layers.Flatten()(x)
    for i, width in enumerate(dense, start=1):
        x = relu(layers.Dense(width, name=f"dense{i}")(x))
        x = layers.Dropout(r)(x) if (r := next(rates)) else x
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="r4_net")


def _dropout_rates(dropout, blocks, dense) -> list[float]:
    """:func:`r4_net`'s ``dropout`` as one rate per block and hidden Dense layer."""
    if isinstance(dropout, str):
        if dropout != "r4":
            raise ValueError(f"dropout={dropout!r}; use a rate, rates or 'r4'.")
        dropout = r4_dropout(blocks, dense)
    n = len(blocks) + len(dense)
    rates = [dropout] * n if isinstance(dropout, (int, float)) else list(dropout)
    if len(rates) != n:
        raise ValueError(
            f"{len(rates)} dropout rates for {len(blocks)} blocks "
            f"and {len(dense)} Dense layers."
        )
    return rates


def _relu(batchnorm: str | None):
    """A ReLU step, with a BatchNormalization ``"before"`` or ``"after"`` it (or
    none)."""
    if batchnorm not in (None, "before", "after"):
        raise ValueError(
            f"batchnorm={batchnorm!r}; use None, 'before' or 'after' (the ReLU)."
        )

    def relu(x):
        if batchnorm == "before":
            x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        return layers.BatchNormalization()(x) if batchnorm == "after" else x

    return relu


NONE_MEANS = {"n_train": "all", "learning_rate": "Keras default", "batchnorm": "none"}
MODEL_OPTIONS = ("blocks", "kernel_size", "dense", "batchnorm", "dropout")


def adapted_normalization(images) -> keras.layers.Normalization:
    """A ``layers.Normalization`` adapted on ``images`` (N, H, W, C): per-channel
    mean and variance, the feature-wise centring and scaling of R4, as a layer inside
    the model."""
    norm = layers.Normalization(axis=-1)
    norm.adapt(np.asarray(images, dtype="float32"))
    return norm


FILL_MODE = "nearest"
"""How zoom fills the pixels it uncovers: R4's ``ImageDataGenerator`` default,
``"nearest"`` (Keras 3's ``RandomZoom`` would reflect)."""


def build_model(
    config: dict, num_classes: int, input_shape=(32, 32, 3), normalization=None
):
    """The BaseNet variant a configuration names, with fresh augmentation (zoom
    filling as R4's did, :data:`FILL_MODE`) and normalisation layers.

    ``normalization``: an adapted ``layers.Normalization`` whose statistics are copied
    when ``config["normalize"]`` is true (required then).
    """
    augment = None
    if config["flip"] or config["zoom"]:
        augment = models_keras.augmentation(
            flip=config["flip"], zoom=config["zoom"], fill_mode=FILL_MODE
        )
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
    return r4_net(
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
            if row is not self.rows[0] and row["decision"] in TAKEN:
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
        ``{label: [history per seed]}`` (for the ablation lab's ``curve_panels``)."""
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
    rule: str = "mean",
) -> Result:
    """Run ``base`` (named ``reference``), then each step on top of the best
    configuration so far.

    ``run(config)`` returns the runs of one configuration (one per seed). A step's
    ``change`` updates the current best; with ``"decide": False`` it is always taken
    (e.g. a smaller training budget, which also re-runs the best configuration as the
    new reference; its decision is ``"budget"``, or ``"taken"`` with the step's own
    ``"why"``, e.g. a choice the report made); otherwise :func:`keep_if_better`
    decides, and with ``rule="noise"`` a gain within the seeds' noise is
    ``"undecided"`` (not taken). A configuration met before is not run again.
    """
    unknown = {k for s in steps for k in s["change"]} - set(base)
    if unknown:
        raise ValueError(
            f"steps change options the base configuration lacks: {sorted(unknown)}"
        )
    if rule not in RULES:
        raise ValueError(f"rule={rule!r}; use one of {RULES}")
    runs_of = run_once(run)
    best, best_name = dict(base), reference
    first = dict(step=reference, family=None, change="—", config=dict(best))
    first.update(runs=runs_of(best), decision="reference", why="the starting point")
    result = Result(rows=[first])
    for step in steps:
        candidate = {**best, **step["change"]}
        reference_runs, runs = runs_of(best), runs_of(candidate)
        decision, why = _decide(
            step, best, candidate, (reference_runs, runs), (metric, rule)
        )
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
        if decision in TAKEN:
            best, best_name = candidate, step["step"]
    result.best = best
    return result


TAKEN = ("kept", "budget", "taken")
"""The decisions that make a step's configuration the new best."""

RULES = ("mean", "noise")
""":func:`greedy`'s rules: any gain of the mean, or only a gain beyond noise."""


def _decide(step: dict, best: dict, candidate: dict, runs: tuple, how: tuple):
    """A step's decision and why (see :func:`greedy`); ``runs``: the best's and the
    candidate's; ``how``: the metric and the rule."""
    metric, rule = how
    same = _key(candidate) == _key(best)
    if not step.get("decide", True):
        if step.get("why"):
            return "taken", step["why"]
        return (
            "budget",
            "no change" if same else "a change of budget: the new reference",
        )
    if same:
        return "reference", "the current best configuration itself"
    keep, why = keep_if_better(*runs, metric)
    if rule == "noise":
        ours, ref = (final_validation(r, metric) for r in runs[::-1])
        why = f"{why}; {findings.spread(ours, ref)}"
        if not findings.separated(ours, ref):
            return "undecided", why
    return ("kept" if keep else "dropped"), why


def run_once(run: Callable[[dict], list]) -> Callable[[dict], list]:
    """``run``, remembering each configuration's runs: a configuration met before is
    not run again."""
    done: dict[str, list] = {}

    def runs_of(config: dict) -> list:
        if _key(config) not in done:
            done[_key(config)] = run(dict(config))
        return done[_key(config)]

    return runs_of


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
                "validation accuracy": findings.mean_std(
                    final_validation(runs), digits
                ),
                "test accuracy": findings.mean_std(
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
        n = config["n_train"]
        build = (
            lambda: build_model(  # noqa: E731
                config, self.num_classes, x.shape[1:], self.normalization
            )
        )
        runs = []
        with self._counting(len(self.seeds) * config["epochs"]):
            for seed in self.seeds:
                (x_fit, y_fit), validation = train.split_validation(
                    x, y, self.validation_fraction, seed
                )
                run = train.fit_keras(
                    build,
                    ((x_fit[:n], y_fit[:n]), test),
                    seed=seed,
                    epochs=config["epochs"],
                    batch_size=config["batch_size"],
                    optimizer=lambda: make_optimizer(config),
                    validation=validation,
                )
                runs.append(run)
        return runs

    def _counting(self, epochs: int):
        """A block in which the fits count their epochs on ``bar`` (grown by
        ``epochs``), if there is one."""
        if self.bar is None:
            return contextlib.nullcontext()
        self.bar.total = (self.bar.total or 0) + epochs
        return train.counting_epochs(self.bar)
