"""Training runs with one compact progress bar and Keras-style histories.

``fit_keras`` trains one freshly built Keras model for one seed and returns a
:class:`Run`; the labs call it once per (configuration, seed) under a single
:func:`progress` bar, so stored outputs stay one line long however many runs there are.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import profile


@dataclass
class Run:
    """One training run: its per-epoch history (Keras names), test metrics and
    wall time."""

    seed: int
    history: dict[str, list[float]]
    test: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    model: object = field(
        default=None, repr=False, compare=False
    )  # kept only with keep_model=True

    def best(self, metric: str = "val_accuracy") -> tuple[float, int]:
        """The best value of ``metric`` and its (1-based) epoch."""
        values = self.history[metric]
        i = int(np.argmin(values) if "loss" in metric else np.argmax(values))
        return float(values[i]), i + 1

    def then(self, later: Run) -> Run:
        """This run followed by ``later`` (e.g. a frozen head, then fine-tuning) as one
        run: the histories one after the other, ``later``'s test metrics and model, the
        summed time."""
        history = {
            k: self.history[k] + later.history[k]
            for k in self.history
            if k in later.history
        }
        return Run(
            self.seed, history, later.test, self.seconds + later.seconds, later.model
        )


def progress(total: int, desc: str = "training", unit: str = "epoch"):
    """A text progress bar that stays one short line in stored notebook outputs; it
    counts ``unit`` (epoch, step, map, ...)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stdout,
        ncols=88,  # the book's code column
        mininterval=5.0,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} "
        + unit
        + "s [{elapsed}<{remaining}]{postfix}",
    )


def split_validation(x, y, fraction: float, seed: int):
    """A seeded random (train, validation) split; the offline CIFAR copies are sorted
    by class."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def _with_validation(x, y, validation_data, fraction: float, seed: int):
    """(training part, validation part or None): given data, else a seeded ``fraction``,
    else none."""
    if validation_data is not None:
        return (x, y), validation_data
    if fraction:
        return split_validation(x, y, fraction, seed)
    return (x, y), None


def kfold_splits(
    labels, k: int, seed: int, stratified: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` seeded (train indices, validation indices) pairs: the validation folds are
    disjoint and together cover every example once.

    ``stratified``: each class is shuffled and dealt round-robin over the folds, so
    every fold keeps the class proportions of ``labels`` (fold sizes differ by at
    most one).
    """
    labels = np.asarray(labels)
    if not 2 <= k <= len(labels):
        raise ValueError(
            f"k={k} folds for {len(labels)} examples; use 2 <= k <= {len(labels)}."
        )
    rng = np.random.default_rng(seed)
    groups = (
        [np.flatnonzero(labels == c) for c in np.unique(labels)]
        if stratified
        else [np.arange(len(labels))]
    )
    fold_of, dealt = np.empty(len(labels), dtype=np.int64), 0
    for group in groups:
        fold_of[rng.permutation(group)] = (dealt + np.arange(len(group))) % k
        dealt += len(
            group
        )  # the next class starts where this one stopped, keeping folds balanced
    return [
        (np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)
    ]


TF_STEPS_PER_EXECUTION = 32
"""Batches per call of the compiled training step on TensorFlow. The updates, and so
every number, are the same bit for bit; on a shared 2-core CPU
(``tools/bench_training.py``) it took BaseNet at batch 32 about 0.75 of the time
(medians), TomiNet 0.6-1.0 (noisy)."""


def keras_compile_options(
    steps_per_execution: int | str = "auto", jit_compile: bool | str = "auto"
) -> dict:
    """``model.compile``'s speed options for the active Keras backend, "auto" resolved
    here, in one place.

    ``steps_per_execution="auto"``: :data:`TF_STEPS_PER_EXECUTION` on TensorFlow (fewer
    Python round trips per epoch, the same updates), 1 elsewhere (the PyTorch backend
    accepts only 1). ``jit_compile="auto"`` stays Keras' own "auto": no XLA on a
    CPU-only TensorFlow, where it was slower for the labs' nets, even after compiling.
    """
    import keras

    if steps_per_execution == "auto":
        steps_per_execution = (
            TF_STEPS_PER_EXECUTION if keras.backend.backend() == "tensorflow" else 1
        )
    return dict(steps_per_execution=steps_per_execution, jit_compile=jit_compile)


def fit_keras(
    build: Callable,
    data,
    *,
    seed: int,
    epochs: int,
    batch_size: int = 128,
    validation_fraction: float = 0.1,
    validation_data=None,
    optimizer: str | Callable = "adam",
    loss: str = "sparse_categorical_crossentropy",
    metrics=("accuracy",),
    bar=None,
    keep_model: bool = False,
    steps_per_execution: int | str = "auto",
    jit_compile: bool | str = "auto",
    validation_batch_size: int | None = None,
) -> Run:
    """Build, compile and fit a Keras model for one seed, then evaluate it on the
    test set.

    ``data`` is ``((x_train, y_train), (x_test, y_test))``, or
    ``((x_train, y_train), None)`` for no test set; ``build()`` returns an
    uncompiled model; ``optimizer`` is a Keras name or a function returning a fresh
    optimizer. Validation: ``validation_data=(x_val, y_val)`` if given, else a
    seeded random ``validation_fraction`` of the training data (0: none). Any Keras
    loss and metrics work (regression: ``loss="mse", metrics=("mae",)``; two
    classes: ``loss="binary_crossentropy"``). ``keep_model=True`` keeps the fitted
    model in ``Run.model``.

    Speed only (the same numbers; ``tools/bench_training.py`` measures it):
    ``steps_per_execution`` and ``jit_compile`` go to ``model.compile``, "auto"
    resolved by :func:`keras_compile_options`; ``validation_batch_size`` (None:
    ``batch_size``) to ``model.fit``.
    """
    (x, y), test_data = data
    profile.seed_everything(seed)
    (x_fit, y_fit), validation = _with_validation(
        x, y, validation_data, validation_fraction, seed
    )
    model = build()
    model.compile(
        optimizer=optimizer() if callable(optimizer) else optimizer,
        loss=loss,
        metrics=list(metrics),
        **keras_compile_options(steps_per_execution, jit_compile),
    )
    callbacks = [_tick_callback(bar)] if bar is not None else []
    start = time.perf_counter()
    fitted = model.fit(
        x_fit,
        y_fit,
        validation_data=validation,
        epochs=epochs,
        batch_size=batch_size,
        validation_batch_size=validation_batch_size,
        verbose=0,
        callbacks=callbacks,
    )
    test = {}
    if test_data is not None:
        test = model.evaluate(*test_data, batch_size=1024, verbose=0, return_dict=True)
    history = {k: [float(v) for v in values] for k, values in fitted.history.items()}
    return Run(
        seed=seed,
        history=history,
        test={k: float(v) for k, v in test.items()},
        seconds=time.perf_counter() - start,
        model=model if keep_model else None,
    )


def cross_validate(
    build: Callable,
    x,
    y,
    *,
    k: int,
    seed: int,
    prepare: Callable | None = None,
    stratified: bool = True,
    **fit_options,
) -> list[Run]:
    """K-fold cross-validation: one :func:`fit_keras` run per fold
    (see :func:`kfold_splits`).

    Each fold trains on the other ``k - 1`` folds and is validated on its own (its
    curves are the ``val_*`` history, its final metrics ``Run.test``).
    ``prepare(x_train, x_val)`` returns both preprocessed, fitted on the training folds
    only (no leakage from the held-out fold). ``fit_options`` go to :func:`fit_keras`
    (``epochs``, ``loss``, ``bar``, ...).
    """
    runs = []
    for train_idx, val_idx in kfold_splits(y, k, seed, stratified):
        x_train, x_val = x[train_idx], x[val_idx]
        if prepare is not None:
            x_train, x_val = prepare(x_train, x_val)
        held_out = (x_val, y[val_idx])
        runs.append(
            fit_keras(
                build,
                ((x_train, y[train_idx]), held_out),
                seed=seed,
                validation_data=held_out,
                **fit_options,
            )
        )
    return runs


def _tick_callback(bar):
    """A Keras callback advancing ``bar`` by one per epoch, showing the last
    validation accuracy."""
    import keras

    class TickBar(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs and "val_accuracy" in logs:
                bar.set_postfix_str(
                    f"last val_accuracy {logs['val_accuracy']:.4f}", refresh=False
                )
            bar.update(1)

    return TickBar()


# --- PyTorch --------------------------------------------------------------------------
def torch_device(device=None):
    """``device`` as a ``torch.device``; ``None`` picks the GPU when PyTorch sees one,
    else the CPU."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def predict_torch(
    model, x, *, batch_size: int = 1024, device=None, features: bool = False
):
    """The logits of a PyTorch model over ``x`` (NumPy array or tensor), in
    evaluation mode.

    The model's ``forward`` returns ``(logits, features)`` (see
    :mod:`helpers.models_torch`) or just logits. Returns a NumPy array of
    logits, or ``(logits, features)`` with ``features=True``. Predicted
    classes: ``logits.argmax(1)``.
    """
    import torch

    device = (
        torch_device(device) if device is not None else next(model.parameters()).device
    )
    x = torch.as_tensor(x)
    was_training = model.training
    model.eval()
    logits, feats = [], []
    # torch.inference_mode(): the same logits, no faster (tools/bench_training.py)
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out = model(x[start : start + batch_size].to(device))
            out, feat = out if isinstance(out, tuple) else (out, None)
            logits.append(out.float().cpu())
            if features:
                feats.append(feat.float().cpu())
    model.train(was_training)
    logits = torch.cat(logits).numpy()
    return (logits, torch.cat(feats).numpy()) if features else logits


def _loss_and_accuracy(model, x, y, batch_size: int) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    logits = torch.as_tensor(predict_torch(model, x, batch_size=batch_size))
    y = torch.as_tensor(y).cpu().long()
    return {
        "loss": float(F.cross_entropy(logits, y)),
        "accuracy": float((logits.argmax(1) == y).float().mean()),
    }


def train_epoch(
    net, opt, x, y, *, batch_size: int, order, augment: Callable | None = None
) -> tuple[float, float]:
    """One epoch of training, the loop a student writes: batch by batch, forward, loss,
    backward, step. Returns the epoch's loss and accuracy, running means over its
    batches (as Keras reports them).

    ``x``, ``y``: tensors already on the net's device; the batches are cut from them by
    indexing with a permutation drawn from the seeded ``torch.Generator`` ``order`` (no
    ``DataLoader``, no per-image work). ``augment``: optional ``batch -> batch`` applied
    to the inputs.
    """
    import torch
    import torch.nn.functional as F

    net.train()  # training mode: Dropout (and BatchNorm) on
    total_loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for batch in torch.randperm(len(x), generator=order).to(x.device).split(batch_size):
        inputs = x[batch] if augment is None else augment(x[batch])
        out = net(inputs)  # forward
        logits = out[0] if isinstance(out, tuple) else out  # (logits, features)
        loss = F.cross_entropy(logits, y[batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()  # gradients of the loss with respect to every weight
        opt.step()  # one optimiser step along them
        total_loss += loss.detach() * len(batch)
        correct += (logits.detach().argmax(1) == y[batch]).sum()
    return float(total_loss) / len(x), float(correct) / len(x)


def fit_torch(
    model,
    data,
    *,
    seed: int,
    epochs: int,
    batch_size: int = 128,
    optimizer: str | Callable = "adam",
    lr: float = 1e-3,
    validation_fraction: float = 0.1,
    validation_data=None,
    device=None,
    bar=None,
    keep_model: bool = False,
    augment: Callable | None = None,
    on_epoch_end: Callable | None = None,
    channels_last: bool = False,
) -> Run:
    """Train a PyTorch classifier for one seed, then evaluate it on the test set: the
    PyTorch twin of :func:`fit_keras`, returning the same :class:`Run` (Keras history
    names, so ``plots.plot_history`` draws both).

    ``model`` is a class or function building the net (called after seeding, so the seed
    fixes the initial weights; e.g. ``models_torch.SimpleCNN``) or an already built
    ``nn.Module``. ``data`` is ``((x_train, y_train), (x_test, y_test))`` (or ``None``
    for no test set), arrays in the layout the model expects (images NCHW, float).
    ``optimizer``: ``"adam"``, ``"sgd"`` (momentum 0.9) or a function
    ``params -> torch.optim.Optimizer``; ``lr`` its learning rate. Validation as in
    :func:`fit_keras`. ``device``: ``None`` = the GPU if there is one. ``augment``: an
    optional function ``batch -> batch`` applied to each training batch on the device
    (random crops, flips...; it draws from torch's seeded generator); evaluation never
    sees it. ``on_epoch_end(epoch, net)``: called after each epoch (1-based) and its
    validation, e.g. to keep the net's predictions or weights at a given epoch.

    All data go to the device once, as tensors; each epoch is one :func:`train_epoch`.
    ``channels_last=True``: the net's 4-D weights and each (augmented) batch of images
    in PyTorch's NHWC memory layout (the arrays and ``augment`` still see NCHW). On a
    CPU it trains SimpleCNN faster with the very same numbers, AlexNet32 faster with
    other round-off, which a short run amplifies beyond the seeds' spread
    (``tools/bench_training.py``): so it is opt-in.
    """
    import torch

    (x, y), test_data = data
    profile.seed_everything(seed)
    device = torch_device(device)
    (x_fit, y_fit), validation = _with_validation(
        x, y, validation_data, validation_fraction, seed
    )
    net = model if isinstance(model, torch.nn.Module) else model()
    net = net.to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    if callable(optimizer):
        opt = optimizer(net.parameters())
    elif optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    else:
        raise ValueError(
            f"optimizer={optimizer!r}; use 'adam', 'sgd' or a function of the "
            "parameters."
        )
    on_device = lambda a: torch.as_tensor(a).to(device)  # noqa: E731
    x_fit, y_fit = on_device(x_fit), on_device(y_fit).long()
    if validation is not None:
        validation = on_device(validation[0]), on_device(validation[1]).long()
    order = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    start = time.perf_counter()
    if channels_last:  # after any augmentation; train_epoch stays the plain loop
        plain = augment or (lambda batch: batch)
        augment = lambda batch: plain(batch).contiguous(  # noqa: E731
            memory_format=torch.channels_last
        )
    for epoch in range(1, epochs + 1):
        loss, accuracy = train_epoch(
            net, opt, x_fit, y_fit, batch_size=batch_size, order=order, augment=augment
        )
        history["loss"].append(loss)
        history["accuracy"].append(accuracy)
        if validation is not None:
            scores = _loss_and_accuracy(net, *validation, batch_size=1024)
            history.setdefault("val_loss", []).append(scores["loss"])
            history.setdefault("val_accuracy", []).append(scores["accuracy"])
        if bar is not None:
            if validation is not None:
                bar.set_postfix_str(
                    f"last val_accuracy {history['val_accuracy'][-1]:.4f}",
                    refresh=False,
                )
            bar.update(1)
        if on_epoch_end is not None:
            on_epoch_end(epoch, net)
    test = (
        _loss_and_accuracy(net, *test_data, batch_size=1024)
        if test_data is not None
        else {}
    )
    return Run(
        seed=seed,
        history=history,
        test=test,
        seconds=time.perf_counter() - start,
        model=net if keep_model else None,
    )
