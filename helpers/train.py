"""Training runs with one compact progress bar and Keras-style histories.

:func:`fit_keras` trains one freshly built Keras model for one seed, :func:`fit_torch`
one PyTorch net (epoch by epoch with :func:`train_epoch`, the loop a student writes);
both return a :class:`Run`. The labs call them once per (configuration, seed) inside
one ``with progress(...)`` block, whose bar counts the epochs of every fit in it, so
stored outputs stay one line long however many runs there are.

How and where the fits run, never what they compute, is :data:`FIT_SETTINGS` (speed
options the benchmarks in ``tools/`` change, and the PyTorch device).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import numbers
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

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


_COUNTING: list = []  # the bars of the open `with progress(...)` blocks, innermost last


class _Progress(tqdm):
    """A tqdm bar that, inside its ``with`` block, counts the epochs of every fit."""

    def __enter__(self):
        _COUNTING.append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        _COUNTING.remove(self)
        return super().__exit__(*exc)


def progress(total: int, desc: str = "training", unit: str = "epoch"):
    """A text progress bar that stays one short line in stored notebook outputs; it
    counts ``unit`` (epoch, step, map, ...). Inside ``with progress(...) as bar:``,
    every :func:`fit_keras` and :func:`fit_torch` advances it by one per epoch."""
    return _Progress(
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


@contextlib.contextmanager
def counting_epochs(bar):
    """Inside the block, every fit advances ``bar`` (anything with tqdm's ``update``
    and ``set_postfix_str``) by one per epoch, as a ``with progress(...)`` bar is."""
    _COUNTING.append(bar)
    try:
        yield bar
    finally:
        _COUNTING.remove(bar)


def _count_epoch(scores: dict) -> None:
    """One epoch more on the innermost counting bar (if any), with the last
    validation accuracy."""
    if not _COUNTING:
        return
    bar = _COUNTING[-1]
    if "val_accuracy" in scores:
        bar.set_postfix_str(
            f"last val_accuracy {scores['val_accuracy']:.4f}", refresh=False
        )
    bar.update(1)


# --- How and where the fits run -------------------------------------------------------
TF_STEPS_PER_EXECUTION = 32
"""Batches per call of the compiled training step on TensorFlow. The updates, and so
every number, are the same bit for bit; on a shared 2-core CPU
(``tools/bench_training.py``) it took BaseNet at batch 32 about 0.75 of the time
(medians), TomiNet 0.6-1.0 (noisy)."""


@dataclass
class FitSettings:
    """How and where :func:`fit_keras` and :func:`fit_torch` run, never what they
    compute (``tools/bench_training.py`` measures each speed option).

    * ``steps_per_execution``: batches per call of Keras' compiled step; "auto":
      :data:`TF_STEPS_PER_EXECUTION` on TensorFlow, 1 elsewhere (the PyTorch backend
      accepts only 1).
    * ``jit_compile``: Keras' XLA switch; "auto" is Keras' own (no XLA on a CPU-only
      TensorFlow, where it was slower for the labs' nets, even after compiling).
    * ``validation_batch_size``: Keras' batch size for validation (None: the training
      batch size).
    * ``channels_last``: a PyTorch net's 4-D weights and the training images in NHWC
      memory layout. On a CPU it trains SimpleCNN faster with the very same numbers,
      AlexNet32 faster with other round-off, which a short run amplifies beyond the
      seeds' spread: so it is off unless asked for.
    * ``device``: where :func:`fit_torch` trains; None: the GPU when PyTorch sees one,
      else the CPU.
    """

    steps_per_execution: int | str = "auto"
    jit_compile: bool | str = "auto"
    validation_batch_size: int | None = None
    channels_last: bool = False
    device: str | None = None


FIT_SETTINGS = FitSettings()


@contextlib.contextmanager
def fit_settings(**changes):
    """:data:`FIT_SETTINGS` changed inside a ``with`` block (a benchmark's arm, a
    test), restored after it."""
    names = [f.name for f in dataclasses.fields(FitSettings)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise ValueError(f"no fit setting {unknown}; the settings: {names}.")
    before = dataclasses.asdict(FIT_SETTINGS)
    for name, value in changes.items():
        setattr(FIT_SETTINGS, name, value)
    try:
        yield FIT_SETTINGS
    finally:
        for name, value in before.items():
            setattr(FIT_SETTINGS, name, value)


def keras_compile_options() -> dict:
    """``model.compile``'s speed options from :data:`FIT_SETTINGS`, "auto" resolved
    for the active Keras backend."""
    import keras

    steps = FIT_SETTINGS.steps_per_execution
    if steps == "auto":
        steps = TF_STEPS_PER_EXECUTION if keras.backend.backend() == "tensorflow" else 1
    return dict(steps_per_execution=steps, jit_compile=FIT_SETTINGS.jit_compile)


# --- Data splits ----------------------------------------------------------------------
def split_validation(x, y, fraction: float, seed: int):
    """A seeded random (train, validation) split; the offline CIFAR copies are sorted
    by class."""
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def split_off_validation(x, y, validation, seed: int):
    """(training part, validation part or None): ``validation`` as given
    (``(x_val, y_val)``), a seeded random fraction of the data (a number), or none (0
    or None)."""
    if validation is None or (isinstance(validation, numbers.Real) and validation == 0):
        return (x, y), None
    if isinstance(validation, numbers.Real):
        return split_validation(x, y, validation, seed)
    return (x, y), validation


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


# --- Keras ----------------------------------------------------------------------------
def fit_keras(
    build: Callable,
    data,
    *,
    seed: int,
    epochs: int,
    batch_size: int = 128,
    validation=0.1,
    optimizer: str | Callable = "adam",
    loss: str = "sparse_categorical_crossentropy",
    metrics=("accuracy",),
    keep_model: bool = False,
) -> Run:
    """Build, compile and fit a Keras model for one seed, then evaluate it on the
    test set.

    ``data`` is ``((x_train, y_train), (x_test, y_test))``, or
    ``((x_train, y_train), None)`` for no test set; ``build()`` returns an
    uncompiled model; ``optimizer`` is a Keras name or a function returning a fresh
    optimizer. ``validation``: ``(x_val, y_val)``, or a seeded random fraction of the
    training data (0 or None: no validation). Any Keras loss and metrics work
    (regression: ``loss="mse", metrics=("mae",)``; two classes:
    ``loss="binary_crossentropy"``). ``keep_model=True`` keeps the fitted model in
    ``Run.model``.
    """
    (x, y), test_data = data
    profile.seed_everything(seed)
    (x_fit, y_fit), validation_data = split_off_validation(x, y, validation, seed)
    model = build()
    model.compile(
        optimizer=optimizer() if callable(optimizer) else optimizer,
        loss=loss,
        metrics=list(metrics),
        **keras_compile_options(),  # speed only: the same numbers
    )
    start = time.perf_counter()
    fitted = model.fit(
        x_fit,
        y_fit,
        validation_data=validation_data,
        epochs=epochs,
        batch_size=batch_size,
        validation_batch_size=FIT_SETTINGS.validation_batch_size,
        verbose=0,
        callbacks=[_epoch_counter()],
    )
    test = {}
    if test_data is not None:
        test = model.evaluate(*test_data, batch_size=1024, verbose=0, return_dict=True)
    return Run(
        seed=seed,
        history={k: [float(v) for v in vs] for k, vs in fitted.history.items()},
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
    (``epochs``, ``loss``, ...).
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
                validation=held_out,
                **fit_options,
            )
        )
    return runs


def _epoch_counter():
    """A Keras callback that counts each epoch on the open progress bar."""
    import keras

    class EpochCounter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            _count_epoch(logs or {})

    return EpochCounter()


# --- PyTorch --------------------------------------------------------------------------
def torch_device(device=None):
    """``device`` as a ``torch.device``; ``None``: :data:`FIT_SETTINGS`' device, or else
    the GPU when PyTorch sees one, else the CPU."""
    import torch

    device = device or FIT_SETTINGS.device
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def predict_torch(
    model, x, *, batch_size: int = 1024, device=None, features: bool = False
):
    """The logits of a PyTorch model over ``x`` (NumPy array or tensor), in
    evaluation mode, as a NumPy array (predicted classes: ``logits.argmax(1)``).

    ``features=True`` returns ``(logits, features)``, the features from the net's
    ``embedding(x)`` (the flattened representation its classifier starts from; see
    :mod:`helpers.models_torch`). ``device``: default, the model's.
    """
    import torch

    if features and not hasattr(model, "embedding"):
        raise TypeError(
            f"{type(model).__name__} has no embedding(x); features=True needs a net "
            "that has one (helpers.models_torch, helpers.transfer_torch)."
        )
    device = torch_device(device) if device else next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, feats = [], []
    # torch.inference_mode(): the same logits, no faster (tools/bench_training.py)
    with torch.no_grad():
        for batch in torch.as_tensor(x).split(batch_size):
            batch = batch.to(device)
            logits.append(model(batch).float().cpu())
            if features:
                feats.append(model.embedding(batch).float().cpu())
    model.train(was_training)
    logits = torch.cat(logits).numpy()
    return (logits, torch.cat(feats).numpy()) if features else logits


def _loss_and_accuracy(model, x, y, batch_size: int = 1024) -> dict[str, float]:
    import torch
    import torch.nn.functional as F

    logits = torch.as_tensor(predict_torch(model, x, batch_size=batch_size))
    y = torch.as_tensor(y).cpu().long()
    return {
        "loss": float(F.cross_entropy(logits, y)),
        "accuracy": float((logits.argmax(1) == y).float().mean()),
    }


def train_epoch(net, opt, x, y, *, batch_size: int, order) -> tuple[float, float]:
    """One epoch of training, the loop a student writes: batch by batch, forward, loss,
    backward, step. Returns the epoch's loss and accuracy, running means over its
    batches (as Keras reports them).

    ``x``, ``y``: tensors already on the net's device; the batches are cut from them by
    indexing with a permutation drawn from the seeded ``torch.Generator`` ``order`` (no
    ``DataLoader``, no per-image work).
    """
    import torch
    import torch.nn.functional as F

    net.train()  # training mode: Dropout (and BatchNorm) on
    total_loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for batch in torch.randperm(len(x), generator=order).to(x.device).split(batch_size):
        logits = net(x[batch])  # forward
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
    validation=0.1,
    optimizer: str | Callable = "adam",
    lr: float = 1e-3,
    on_epoch_end: Callable | None = None,
    keep_model: bool = False,
) -> Run:
    """Train a PyTorch classifier for one seed, then evaluate it on the test set: the
    PyTorch twin of :func:`fit_keras`, returning the same :class:`Run` (Keras history
    names, so ``plots.plot_history`` draws both).

    ``model`` is a class or function building the net (called after seeding, so the seed
    fixes the initial weights; e.g. ``models_torch.SimpleCNN``) or an already built
    ``nn.Module``. ``data`` is ``((x_train, y_train), (x_test, y_test))`` (or ``None``
    for no test set), arrays in the layout the model expects (images NCHW, float).
    ``optimizer``: ``"adam"``, ``"sgd"`` (momentum 0.9) or a function
    ``params -> torch.optim.Optimizer``; ``lr`` its learning rate. ``validation`` as in
    :func:`fit_keras`. ``on_epoch_end(epoch, net)``: called after each epoch (1-based)
    and its validation, e.g. to keep the net's predictions at a given epoch.

    All data go to the device once, as tensors; each epoch is one :func:`train_epoch`.
    """
    import torch

    (x, y), test_data = data
    profile.seed_everything(seed)
    (x_fit, y_fit), validation_data = split_off_validation(x, y, validation, seed)
    net = _placed(model if isinstance(model, torch.nn.Module) else model())
    opt = _torch_optimizer(optimizer, net.parameters(), lr)
    x_fit, y_fit = _tensors(x_fit, y_fit, FIT_SETTINGS.channels_last)
    if validation_data is not None:
        validation_data = _tensors(*validation_data)
    order = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        loss, accuracy = train_epoch(
            net, opt, x_fit, y_fit, batch_size=batch_size, order=order
        )
        scores = {"loss": loss, "accuracy": accuracy}
        if validation_data is not None:
            validated = _loss_and_accuracy(net, *validation_data)
            scores.update({f"val_{k}": v for k, v in validated.items()})
        for key, value in scores.items():
            history.setdefault(key, []).append(value)
        _count_epoch(scores)
        if on_epoch_end is not None:
            on_epoch_end(epoch, net)
    test = _loss_and_accuracy(net, *test_data) if test_data is not None else {}
    seconds = time.perf_counter() - start
    return Run(seed, history, test, seconds, net if keep_model else None)


def _placed(net):
    """``net`` on :func:`torch_device`, in the memory layout of :data:`FIT_SETTINGS`."""
    import torch

    net = net.to(torch_device())
    return (
        net.to(memory_format=torch.channels_last) if FIT_SETTINGS.channels_last else net
    )


def _tensors(x, y, channels_last: bool = False):
    """``x`` and ``y`` as tensors on :func:`torch_device` (``y`` as class indices);
    images NHWC in memory with ``channels_last``."""
    import torch

    device = torch_device()
    x = torch.as_tensor(x).to(device)
    if channels_last and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, torch.as_tensor(y).to(device).long()


def _torch_optimizer(optimizer, parameters, lr: float):
    """``optimizer`` (``"adam"``, ``"sgd"`` or a function of the parameters) for
    ``parameters``."""
    import torch

    if callable(optimizer):
        return optimizer(parameters)
    if optimizer == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    if optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    raise ValueError(
        f"optimizer={optimizer!r}; use 'adam', 'sgd' or a function of the parameters."
    )


# --- Transitional: the keyword one stored page still passes ---------------------------
# filter_visualisation's page (executed before `with progress(...)` counted the fits'
# epochs) passes its open bar as `bar=`; the keyword goes when that page is re-executed.
def _accepting_bar(fit):
    @functools.wraps(fit)
    def fit_counting_on_bar(*args, bar=None, **kwargs):
        if bar is None:
            return fit(*args, **kwargs)
        with counting_epochs(bar):
            return fit(*args, **kwargs)

    return fit_counting_on_bar


fit_keras = _accepting_bar(fit_keras)
fit_torch = _accepting_bar(fit_torch)
