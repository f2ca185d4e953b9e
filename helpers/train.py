"""Training runs with one compact progress bar and Keras-style histories.

``fit_keras`` trains one freshly built Keras model for one seed and returns a :class:`Run`;
the labs call it once per (configuration, seed) under a single :func:`progress` bar, so stored
outputs stay one line long however many runs there are.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import profile


@dataclass
class Run:
    """One training run: its per-epoch history (Keras names), test metrics and wall time."""

    seed: int
    history: dict[str, list[float]]
    test: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def best(self, metric: str = "val_accuracy") -> tuple[float, int]:
        """The best value of ``metric`` and its (1-based) epoch."""
        values = self.history[metric]
        i = int(np.argmin(values) if "loss" in metric else np.argmax(values))
        return float(values[i]), i + 1


def progress(total: int, desc: str = "training"):
    """A text progress bar that stays one short line in stored notebook outputs."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", file=sys.stdout, ncols=100,
                mininterval=5.0, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} epochs [{elapsed}<{remaining}]{postfix}")


def split_validation(x, y, fraction: float, seed: int):
    """A seeded random (train, validation) split; the offline CIFAR copies are sorted by class."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def fit_keras(build: Callable, data, *, seed: int, epochs: int, batch_size: int = 128,
              validation_fraction: float = 0.1, optimizer: str | Callable = "adam",
              loss: str = "sparse_categorical_crossentropy", metrics=("accuracy",), bar=None) -> Run:
    """Build, compile and fit a Keras model for one seed, then evaluate it on the test set.

    ``data`` is ``((x_train, y_train), (x_test, y_test))``; ``build()`` returns an uncompiled
    model; ``optimizer`` is a Keras name or a function returning a fresh optimizer.
    """
    import keras

    (x, y), (x_test, y_test) = data
    profile.seed_everything(seed)
    (x_fit, y_fit), validation = split_validation(x, y, validation_fraction, seed)
    model = build()
    model.compile(optimizer=optimizer() if callable(optimizer) else optimizer, loss=loss, metrics=list(metrics))
    callbacks = [_tick_callback(bar)] if bar is not None else []
    start = time.perf_counter()
    fitted = model.fit(x_fit, y_fit, validation_data=validation, epochs=epochs, batch_size=batch_size,
                       verbose=0, callbacks=callbacks)
    test = model.evaluate(x_test, y_test, batch_size=1024, verbose=0, return_dict=True)
    history = {k: [float(v) for v in values] for k, values in fitted.history.items()}
    return Run(seed=seed, history=history, test={k: float(v) for k, v in test.items()},
               seconds=time.perf_counter() - start)


def _tick_callback(bar):
    """A Keras callback advancing ``bar`` by one per epoch, showing the last validation accuracy."""
    import keras

    class TickBar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs and "val_accuracy" in logs:
                bar.set_postfix_str(f"last val_accuracy {logs['val_accuracy']:.4f}", refresh=False)
            bar.update(1)

    return TickBar()
