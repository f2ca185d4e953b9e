"""Transfer learning with Keras 3 from a small net pretrained on another data set (R0).

A net trained on one task keeps its convolutional *base* and gets a new, freshly
initialised *head* (its last Dense layer) for the new task. :func:`fine_tune` trains in
two phases: first the head alone with the base frozen, then the whole net at a learning
rate divided by ten::

    pretrained = train.fit_keras(lambda: models_keras.tominet(26), letters, ...).model
    run = fine_tune(pretrained, ((x_100, y_100), (x_test, y_test)), seed=0,
                    head_epochs=35, tune_epochs=15, validation=(x_val, y_val))

Backend-neutral (no TensorFlow calls). Freezing a Keras 3 ``BatchNormalization`` layer
also puts it in inference mode: while frozen it normalises with the statistics learnt
in pretraining.
"""

from __future__ import annotations

import numpy as np

from . import train


def stratified_draw(labels, n_per_class: int, seed: int, exclude=None) -> np.ndarray:
    """Indices of ``n_per_class`` examples of every class in ``labels``, drawn at random
    (seeded) without replacement, never from the indices in ``exclude``; sorted by
    class, then index."""
    labels = np.asarray(labels)
    allowed = np.ones(len(labels), bool)
    if exclude is not None:
        allowed[np.asarray(exclude, dtype=np.int64)] = False
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        pool = np.flatnonzero((labels == c) & allowed)
        if len(pool) < n_per_class:
            raise ValueError(
                f"class {c} has {len(pool)} examples to draw from, "
                f"fewer than {n_per_class}."
            )
        picked.append(np.sort(rng.choice(pool, n_per_class, replace=False)))
    return np.concatenate(picked)


def with_new_head(model, num_classes: int, head: str = "head"):
    """A copy of ``model`` (same trained weights; ``model`` itself is left alone) whose
    last layer, the Dense layer named ``head``, is replaced by a fresh
    Dense(``num_classes``, softmax) of the same name. The new head's weights come from
    Keras' initialiser (seed first for repeatability)."""
    import keras

    if model.layers[-1].name != head or not isinstance(
        model.layers[-1], keras.layers.Dense
    ):
        raise ValueError(
            f"the last layer of {model.name!r} is {model.layers[-1].name!r}; "
            f"expected the Dense head {head!r}."
        )
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    features = copy.layers[-2].output
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=head)(features)
    return keras.Model(copy.inputs, outputs, name=f"{model.name}_new_head")


def set_base_trainable(model, trainable: bool, head: str = "head") -> None:
    """Freeze (``False``) or unfreeze (``True``) every layer except the ``head``, which
    stays trainable."""
    for layer in model.layers:
        layer.trainable = trainable or layer.name == head


def adam(lr: float):
    """A function returning a fresh Adam optimiser with learning rate ``lr``
    (for ``fit_keras``)."""
    import keras

    return lambda: keras.optimizers.Adam(learning_rate=lr)


def fine_tune(
    pretrained,
    data,
    *,
    head_epochs: int,
    tune_epochs: int,
    lr: float = 1e-3,
    lr_divisor: float = 10.0,
    num_classes: int = 10,
    keep_model: bool = False,
    **fit,
) -> train.Run:
    """Transfer ``pretrained`` to a new task in two phases, each a
    :func:`train.fit_keras` run.

    1. The head (the last layer, a Dense named ``"head"``) is replaced
       (:func:`with_new_head`, after seeding), the base is frozen, and the head trains
       ``head_epochs`` epochs with Adam at ``lr``.
    2. Every layer is unfrozen and the whole net trains ``tune_epochs`` more epochs with
       a fresh Adam at ``lr / lr_divisor``.

    ``data`` is ``((x_train, y_train), (x_test, y_test))`` as for ``fit_keras``;
    ``fit``: ``fit_keras``'s options for both phases (``seed`` is required;
    ``batch_size`` defaults to 32 here, ``validation`` to none). Returns one
    :class:`train.Run`: the two phases' histories joined (``head_epochs + tune_epochs``
    entries, plus ``lr``, the learning rate of each epoch), the test metrics after phase
    2, and the wall time of both phases.
    """
    (x, y), test_data = data
    fit = {"batch_size": 32, "validation": None, **fit, "keep_model": True}

    def new_head():
        model = with_new_head(pretrained, num_classes)
        set_base_trainable(model, False)
        return model

    first = train.fit_keras(
        new_head, ((x, y), None), epochs=head_epochs, optimizer=adam(lr), **fit
    )
    model = first.model
    set_base_trainable(model, True)
    second = train.fit_keras(
        lambda: model,
        ((x, y), test_data),
        epochs=tune_epochs,
        optimizer=adam(lr / lr_divisor),
        **fit,
    )
    run = first.then(second)
    run.history["lr"] = [lr] * head_epochs + [lr / lr_divisor] * tune_epochs
    run.model = model if keep_model else None
    return run


# --- BatchNormalization's statistics at test time ------------------------------------
def batchnorm_layers(model, trainable_only: bool = False) -> list:
    """The ``BatchNormalization`` layers of ``model``, in order (only the trainable
    ones with ``trainable_only``: those that normalised with batch statistics while
    training)."""
    import keras

    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
        and (layer.trainable or not trainable_only)
    ]


def with_batchnorm_momentum(model, momentum: float):
    """``model`` with the momentum of every ``BatchNormalization`` layer set to
    ``momentum`` (in place; returned, for use in a ``build`` function).

    Keras' default is 0.99: each training step keeps 99% of the moving averages
    (PyTorch's default, momentum 0.1 there, keeps 90%: Keras' 0.9). The momentum only
    decides how the moving mean and variance follow the batches; training normalises
    with each batch's own statistics, so the weights are the same whatever it is.
    """
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum={momentum}; use 0 <= momentum < 1.")
    for layer in batchnorm_layers(model):
        layer.momentum = momentum
    return model


def recompute_batchnorm(model, x, batch_size: int = 1024) -> list:
    """Set the moving mean and variance of every trainable ``BatchNormalization`` layer
    of ``model`` to the mean and (biased) variance of that layer's inputs over ``x``,
    as training mode computes them, layer after layer (each layer's inputs pass
    through the earlier layers with their new statistics).

    ``model`` must be a chain of layers (``Sequential``, or a functional model without
    branches, such as TomiNet). Frozen layers keep their statistics: they normalised
    with those while training. Returns the previous ``(moving_mean,
    moving_variance)`` of each changed layer, for :func:`restore_batchnorm`.
    """
    import keras

    layers = [
        layer
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    changed = batchnorm_layers(model, trainable_only=True)
    saved = [
        (
            keras.ops.convert_to_numpy(b.moving_mean).copy(),
            keras.ops.convert_to_numpy(b.moving_variance).copy(),
        )
        for b in changed
    ]
    for layer in layers:
        if layer in changed:
            total, squares, n = 0.0, 0.0, 0
            for h in _through(layers[: layers.index(layer)], x, batch_size):
                flat = h.reshape(-1, h.shape[-1]).astype(np.float64)
                total, squares = total + flat.sum(0), squares + (flat**2).sum(0)
                n += len(flat)
            mean = total / n
            layer.moving_mean.assign(mean.astype("float32"))
            layer.moving_variance.assign((squares / n - mean**2).astype("float32"))
    return saved


def _through(layers, x, batch_size: int):
    """Batches of ``x`` passed through ``layers`` in inference mode, as NumPy."""
    import keras

    for start in range(0, len(x), batch_size):
        h = keras.ops.convert_to_tensor(x[start : start + batch_size])
        for layer in layers:
            h = layer(h, training=False)
        yield keras.ops.convert_to_numpy(h)


def restore_batchnorm(model, saved: list) -> None:
    """Put back the statistics :func:`recompute_batchnorm` returned."""
    for layer, (mean, variance) in zip(
        batchnorm_layers(model, trainable_only=True), saved
    ):
        layer.moving_mean.assign(mean)
        layer.moving_variance.assign(variance)


def evaluate_recomputed(model, x_fit, test_data, batch_size: int = 1024) -> dict:
    """The compiled ``model``'s metrics on ``test_data`` with its batch-normalisation
    statistics recomputed on its training inputs ``x_fit``
    (:func:`recompute_batchnorm`); the model's own statistics are put back
    afterwards."""
    saved = recompute_batchnorm(model, x_fit, batch_size)
    try:
        metrics = model.evaluate(
            *test_data, batch_size=batch_size, verbose=0, return_dict=True
        )
    finally:
        restore_batchnorm(model, saved)
    return {k: float(v) for k, v in metrics.items()}
