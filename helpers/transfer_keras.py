"""Transfer learning with Keras 3 from a small net pretrained on another data set (R0).

A net trained on one task keeps its convolutional *base* and gets a new, freshly
initialised *head* (its last Dense layer) for the new task. :func:`fine_tune` trains in
two phases: first the head alone with the base frozen, then the whole net at a learning
rate divided by ten::

    pretrained = train.fit_keras(lambda: models_keras.tominet(26), letters, ...).model
    run = fine_tune(pretrained, ((x_100, y_100), (x_test, y_test)), seed=0,
                    head_epochs=35, tune_epochs=15, validation_data=(x_val, y_val))

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
    seed: int,
    head_epochs: int,
    tune_epochs: int,
    lr: float = 1e-3,
    lr_divisor: float = 10.0,
    num_classes: int = 10,
    head: str = "head",
    batch_size: int = 32,
    validation_data=None,
    bar=None,
    keep_model: bool = False,
) -> train.Run:
    """Transfer ``pretrained`` to a new task in two phases, each a
    :func:`train.fit_keras` run.

    1. The head is replaced (:func:`with_new_head`, after seeding with ``seed``), the
       base is frozen, and the head trains ``head_epochs`` epochs with Adam at ``lr``.
    2. Every layer is unfrozen and the whole net trains ``tune_epochs`` more epochs with
       a fresh Adam at ``lr / lr_divisor``.

    ``data`` is ``((x_train, y_train), (x_test, y_test))`` as for ``fit_keras``; there
    is no validation split unless ``validation_data`` is given. Returns one
    :class:`train.Run`: the two phases' histories joined (``head_epochs + tune_epochs``
    entries, plus ``lr``, the learning rate of each epoch), the test metrics after phase
    2, and the wall time of both phases.
    """
    (x, y), test_data = data
    options = dict(
        seed=seed,
        batch_size=batch_size,
        validation_fraction=0.0,
        validation_data=validation_data,
        bar=bar,
        keep_model=True,
    )

    def new_head():
        model = with_new_head(pretrained, num_classes, head)
        set_base_trainable(model, False, head)
        return model

    first = train.fit_keras(
        new_head, ((x, y), None), epochs=head_epochs, optimizer=adam(lr), **options
    )
    model = first.model
    set_base_trainable(model, True, head)
    second = train.fit_keras(
        lambda: model,
        ((x, y), test_data),
        epochs=tune_epochs,
        optimizer=adam(lr / lr_divisor),
        **options,
    )
    run = first.then(second)
    run.history["lr"] = [lr] * head_epochs + [lr / lr_divisor] * tune_epochs
    run.model = model if keep_model else None
    return run
