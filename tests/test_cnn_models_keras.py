"""The Keras CNNs of reports R3 and R4: parameter counts, shapes, and the builder's options."""

import numpy as np
import pytest

from helpers import models_keras


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


def test_alexnet_style_has_the_reports_count_and_shapes():
    model = models_keras.alexnet_style(num_classes=100)
    assert _counts(model) == (
        5_744_964,
        5_744_964 - 4_800,
    )  # R3; BN statistics are non-trainable
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers]
    for shape in [
        (15, 15, 96),
        (13, 13, 256),
        (6, 6, 256),
        (5, 5, 384),
        (4, 4, 256),
        (4096,),
        (512,),
        (100,),
    ]:
        assert shape in shapes


def test_vgg_style_count_and_the_reports_remainder_argument():
    model = models_keras.vgg_style(num_classes=100)
    assert model.count_params() == 5_799_984
    assert (
        abs(model.count_params() - 5_799_440) == 544
    )  # R3's count: see vgg_style's docstring
    without_input_bn = model.count_params() - 12
    assert without_input_bn % 16 == 4 and 5_799_440 % 16 == 0
    assert model.get_layer("block5_pool").output.shape[1:] == (1, 1, 384)


def test_basenet_count_is_computed_from_its_layer_list():
    conv = lambda c_in, c_out, k: c_in * c_out * k * k + c_out  # noqa: E731
    dense = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731
    expected = conv(3, 6, 5) + conv(6, 16, 5) + dense(5 * 5 * 16, 50) + dense(50, 25)
    assert expected == 24_197
    model = models_keras.basenet(num_classes=25)
    assert _counts(model) == (expected, expected)
    assert model.get_layer("dense1").input.shape[1:] == (400,)
    assert models_keras.basenet(num_classes=10).count_params() == expected - dense(
        50, 25
    ) + dense(50, 10)


def test_basenet_options_build_the_ablation_variants():
    names = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
    before = names(models_keras.basenet(batchnorm="before"))
    after = names(models_keras.basenet(batchnorm="after"))
    assert before[1:4] == ["Conv2D", "BatchNormalization", "ReLU"]
    assert after[1:4] == ["Conv2D", "ReLU", "BatchNormalization"]
    assert before.count("BatchNormalization") == after.count("BatchNormalization") == 3
    assert names(models_keras.basenet(dropout=0.25)).count("Dropout") == 3
    deeper = models_keras.basenet(
        blocks=((32, 64), (128, 256)), kernel_size=3, dense=(500, 150)
    )
    assert deeper.get_layer("conv2_2").output.shape[1:] == (10, 10, 256)
    with pytest.raises(ValueError):
        models_keras.basenet(batchnorm="between")
    with pytest.raises(ValueError):
        models_keras.basenet(dropout=(0.1, 0.2))


def test_augmentation_acts_in_training_only_and_adds_no_parameters():
    x = np.random.default_rng(0).random((4, 32, 32, 3)).astype("float32")
    model = models_keras.alexnet_style(
        num_classes=10, augment=models_keras.augmentation(translate=0.2)
    )
    assert (
        model.count_params()
        == models_keras.alexnet_style(num_classes=10).count_params()
    )
    augment = models_keras.augmentation(translate=0.2, seed=1)
    np.testing.assert_array_equal(np.asarray(augment(x, training=False)), x)
    assert not np.allclose(np.asarray(augment(x, training=True)), x)
    np.testing.assert_allclose(
        np.asarray(model(x, training=False)), model.predict(x, verbose=0), atol=1e-5
    )
