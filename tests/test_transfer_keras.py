"""helpers.transfer_keras: stratified draws, head swap, freezing,
two-phase fine-tuning."""

import keras
import numpy as np
import pytest

import helpers  # noqa: F401  (first: import order)
from helpers import models_keras, train, transfer_keras


def weights_of(layers):
    return [
        keras.ops.convert_to_numpy(w).copy() for layer in layers for w in layer.weights
    ]


def test_stratified_draw_is_balanced_seeded_and_avoids_excluded():
    labels = np.repeat(np.arange(10), 50)
    excluded = np.arange(0, 500, 7)
    idx = transfer_keras.stratified_draw(labels, 10, seed=3, exclude=excluded)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    assert np.bincount(labels[idx]).tolist() == [10] * 10
    assert not set(idx.tolist()) & set(excluded.tolist())
    assert np.array_equal(
        idx, transfer_keras.stratified_draw(labels, 10, seed=3, exclude=excluded)
    )
    assert not np.array_equal(
        idx, transfer_keras.stratified_draw(labels, 10, seed=4, exclude=excluded)
    )


def test_stratified_draw_says_when_a_class_is_too_small():
    with pytest.raises(ValueError, match="class 1 has 2 examples"):
        transfer_keras.stratified_draw(np.array([0, 0, 0, 1, 1]), 3, seed=0)


def test_with_new_head_replaces_only_the_head_and_keeps_the_original():
    letters_net = models_keras.tominet(26)
    assert letters_net.count_params() == 12_986 + 16 * 785
    new = transfer_keras.with_new_head(letters_net, 10)
    assert new.count_params() == 12_986
    assert new.get_layer("head").kernel.shape == (784, 10)
    assert new.output_shape == (None, 10)
    assert letters_net.get_layer("head").kernel.shape == (784, 26)  # untouched
    for a, b in zip(weights_of(letters_net.layers[:-1]), weights_of(new.layers[1:-1])):
        np.testing.assert_array_equal(a, b)
    # a copy, not shared layers: changing the new net leaves the pretrained one alone
    new.get_layer("conv1").kernel.assign(np.zeros((3, 3, 1, 32), "float32"))
    assert (
        np.abs(keras.ops.convert_to_numpy(letters_net.get_layer("conv1").kernel)).sum()
        > 0
    )


def test_with_new_head_needs_a_dense_head():
    with pytest.raises(ValueError, match="expected the Dense head 'top'"):
        transfer_keras.with_new_head(models_keras.tominet(10), 5, head="top")


def test_set_base_trainable():
    net = models_keras.tominet(10)
    transfer_keras.set_base_trainable(net, False)
    assert [w.name for w in net.trainable_weights] == ["kernel", "bias"]
    assert net.trainable_weights[0].shape == (784, 10)
    transfer_keras.set_base_trainable(net, True)
    assert sum(int(np.prod(w.shape)) for w in net.trainable_weights) == 12_890


def test_fine_tune_freezes_then_fine_tunes_at_a_tenth_of_the_rate():
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(
        "int64"
    )  # top vs bottom
    pretrained = models_keras.tominet(26)
    pretrained(x[:2])
    base_before = weights_of(pretrained.layers[:-1])
    frozen = train.fit_keras(
        lambda: _frozen(pretrained),
        ((x, y), None),
        seed=0,
        epochs=3,
        batch_size=10,
        validation_fraction=0,
        keep_model=True,
    )
    for a, b in zip(base_before, weights_of(frozen.model.layers[1:-1])):
        np.testing.assert_array_equal(
            a, b
        )  # frozen: base weights and BN statistics unchanged

    run = transfer_keras.fine_tune(
        pretrained,
        ((x, y), (x, y)),
        seed=0,
        head_epochs=3,
        tune_epochs=2,
        lr=1e-2,
        num_classes=2,
        batch_size=10,
        validation_data=(x[:20], y[:20]),
        keep_model=True,
    )
    assert len(run.history["loss"]) == len(run.history["val_accuracy"]) == 5
    assert run.history["lr"] == [1e-2] * 3 + [1e-3] * 2
    assert float(
        keras.ops.convert_to_numpy(run.model.optimizer.learning_rate)
    ) == pytest.approx(1e-3)
    assert run.model.output_shape == (None, 2)
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(base_before, weights_of(run.model.layers[1:-1]))
    ]
    assert all(changed[:2])  # conv1 kernel and bias moved during fine-tuning
    assert run.history["loss"][-1] < run.history["loss"][0]
    assert set(run.test) == {"loss", "accuracy"}
    for a, b in zip(base_before, weights_of(pretrained.layers[:-1])):
        np.testing.assert_array_equal(
            a, b
        )  # the pretrained net itself is never trained


def _frozen(pretrained):
    model = transfer_keras.with_new_head(pretrained, 2)
    transfer_keras.set_base_trainable(model, False)
    return model
