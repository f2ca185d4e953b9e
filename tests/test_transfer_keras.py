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


def _fit_without_validation(build, x, y, epochs: int):
    """One seeded run on all of ``(x, y)`` in batches of 10, its model kept."""
    return train.fit_keras(
        build,
        ((x, y), None),
        seed=0,
        epochs=epochs,
        batch_size=10,
        validation=None,
        keep_model=True,
    )


@pytest.mark.slow
def test_fine_tune_freezes_then_fine_tunes_at_a_tenth_of_the_rate():
    rng = np.random.default_rng(0)
    x = rng.random((60, 28, 28, 1), dtype=np.float32)
    y = (x[:, :14].mean(axis=(1, 2, 3)) > x[:, 14:].mean(axis=(1, 2, 3))).astype(
        "int64"
    )  # top vs bottom
    pretrained = models_keras.tominet(26)
    pretrained(x[:2])
    base_before = weights_of(pretrained.layers[:-1])
    frozen = _fit_without_validation(lambda: _frozen(pretrained), x, y, epochs=3)
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
        validation=(x[:20], y[:20]),
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


def _statistics(model):
    return [
        keras.ops.convert_to_numpy(v).copy()
        for layer in transfer_keras.batchnorm_layers(model)
        for v in (layer.moving_mean, layer.moving_variance)
    ]


def test_batchnorm_momentum_is_set_and_checked():
    net = transfer_keras.with_batchnorm_momentum(models_keras.tominet(10), 0.9)
    assert [b.momentum for b in transfer_keras.batchnorm_layers(net)] == [0.9, 0.9]
    with pytest.raises(ValueError, match="momentum=1.0"):
        transfer_keras.with_batchnorm_momentum(net, 1.0)


def test_momentum_changes_the_moving_statistics_not_the_weights():
    rng = np.random.default_rng(1)
    x = rng.random((40, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 40)
    nets = [
        _fit_without_validation(
            lambda m=m: transfer_keras.with_batchnorm_momentum(
                models_keras.tominet(10), m
            ),
            x,
            y,
            epochs=2,
        ).model
        for m in (0.99, 0.9)
    ]
    for a, b in zip(*(n.trainable_weights for n in nets)):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    assert not np.allclose(_statistics(nets[0])[1], _statistics(nets[1])[1])


def test_recomputed_statistics_make_inference_match_training_mode():
    rng = np.random.default_rng(2)
    x = rng.random((50, 28, 28, 1), dtype=np.float32)
    net = models_keras.tominet(10)
    before = _statistics(net)
    saved = transfer_keras.recompute_batchnorm(net, x, batch_size=16)  # 4 batches
    assert len(saved) == 2
    inference = keras.ops.convert_to_numpy(net(x, training=False))
    training = keras.ops.convert_to_numpy(net(x, training=True))  # batch statistics
    np.testing.assert_allclose(inference, training, atol=2e-4)
    transfer_keras.restore_batchnorm(net, saved)
    for a, b in zip(before, _statistics(net)):
        np.testing.assert_array_equal(a, b)


def test_recompute_leaves_frozen_layers_and_evaluate_restores():
    rng = np.random.default_rng(3)
    x = rng.random((30, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 30)
    net = models_keras.tominet(10)
    net.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = _statistics(net)
    transfer_keras.set_base_trainable(net, False)
    assert transfer_keras.recompute_batchnorm(net, x) == []
    transfer_keras.set_base_trainable(net, True)
    metrics = transfer_keras.evaluate_recomputed(net, x, (x, y))
    assert set(metrics) == {"loss", "accuracy"}
    for a, b in zip(before, _statistics(net)):
        np.testing.assert_array_equal(a, b)  # the model's own statistics are back


def test_fine_tune_counts_both_phases_epochs_and_validates_each():
    """Both phases' epochs count on the open progress bar, each validated on the
    ``validation=`` images, and the model is not kept unless asked."""
    rng = np.random.default_rng(1)
    x = rng.random((20, 28, 28, 1), dtype=np.float32)
    y = np.arange(20) % 2
    pretrained = models_keras.tominet(26)
    pretrained(x[:2])
    fit = dict(seed=0, batch_size=10, validation=(x[:6], y[:6]))
    with train.progress(total=3) as bar:
        run = transfer_keras.fine_tune(
            pretrained,
            ((x, y), None),
            head_epochs=2,
            tune_epochs=1,
            num_classes=2,
            **fit,
        )
    assert bar.n == 3 and len(run.history["val_loss"]) == 3 and run.model is None
