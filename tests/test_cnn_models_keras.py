"""The Keras CNNs of reports R3 and R4: parameter counts and shapes (R4's improved
nets are ablation.r4_net's: tests/test_ablation.py)."""

import re

import numpy as np
import pytest

from helpers import models_keras


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


# R3's two tables (EJ10): every layer's name and output shape, as R3 prints them.
R3_ALEXNET = [
    ("conv2d", (15, 15, 96)),
    ("max_pooling2d", (13, 13, 96)),
    ("batch_normalization", (13, 13, 96)),
    ("conv2d_1", (6, 6, 256)),
    ("max_pooling2d_1", (5, 5, 256)),
    ("batch_normalization_1", (5, 5, 256)),
    ("conv2d_2", (5, 5, 384)),
    ("batch_normalization_2", (5, 5, 384)),
    ("conv2d_3", (5, 5, 384)),
    ("batch_normalization_3", (5, 5, 384)),
    ("conv2d_4", (5, 5, 256)),
    ("max_pooling2d_2", (4, 4, 256)),
    ("batch_normalization_4", (4, 4, 256)),
    ("flatten", (4096,)),
    ("dense", (512,)),
    ("dropout", (512,)),
    ("batch_normalization_5", (512,)),
    ("dense_1", (512,)),
    ("dropout_1", (512,)),
    ("batch_normalization_6", (512,)),
    ("dense_2", (100,)),
]
R3_VGG16 = [
    ("batch_normalization", (32, 32, 3)),
    ("conv2d", (32, 32, 32)),
    ("batch_normalization_1", (32, 32, 32)),
    ("conv2d_1", (32, 32, 32)),
    ("max_pooling2d", (16, 16, 32)),
    ("batch_normalization_2", (16, 16, 32)),
    ("conv2d_2", (16, 16, 64)),
    ("batch_normalization_3", (16, 16, 64)),
    ("conv2d_3", (16, 16, 64)),
    ("max_pooling2d_1", (15, 15, 64)),
    ("batch_normalization_4", (15, 15, 64)),
    ("conv2d_4", (15, 15, 128)),
    ("batch_normalization_5", (15, 15, 128)),
    ("conv2d_5", (15, 15, 128)),
    ("batch_normalization_6", (15, 15, 128)),
    ("conv2d_6", (15, 15, 128)),
    ("max_pooling2d_2", (14, 14, 128)),
    ("batch_normalization_7", (14, 14, 128)),
    ("conv2d_7", (14, 14, 256)),
    ("batch_normalization_8", (14, 14, 256)),
    ("conv2d_8", (14, 14, 256)),
    ("batch_normalization_9", (14, 14, 256)),
    ("conv2d_9", (14, 14, 256)),
    ("max_pooling2d_3", (13, 13, 256)),
    ("batch_normalization_10", (13, 13, 256)),
    ("conv2d_10", (13, 13, 256)),
    ("batch_normalization_11", (13, 13, 256)),
    ("conv2d_11", (13, 13, 256)),
    ("batch_normalization_12", (13, 13, 256)),
    ("conv2d_12", (13, 13, 128)),
    ("max_pooling2d_4", (12, 12, 128)),
    ("flatten", (18432,)),
    ("dense", (128,)),
    ("dropout", (128,)),
    ("batch_normalization_13", (128,)),
    ("dense_1", (128,)),
    ("dropout_1", (128,)),
    ("batch_normalization_14", (128,)),
    ("dense_2", (128,)),
    ("dropout_2", (128,)),
    ("batch_normalization_15", (128,)),
    ("dense_3", (100,)),
]
KIND = {  # R3's layer names tell their type
    "conv2d": "Conv2D",
    "max_pooling2d": "MaxPooling2D",
    "batch_normalization": "BatchNormalization",
    "flatten": "Flatten",
    "dense": "Dense",
    "dropout": "Dropout",
}


def _table(model):
    """(name, output shape) of every layer after the input, checking each type by
    its name."""
    rows = []
    for layer in model.layers[1:]:
        assert type(layer).__name__ == KIND[re.sub(r"_\d+$", "", layer.name)]
        rows.append((layer.name, tuple(layer.output.shape[1:])))
    return rows


@pytest.mark.parametrize(
    "build, table, counts",
    [
        (models_keras.alexnet_style, R3_ALEXNET, (5_744_964, 5_740_164)),
        (models_keras.vgg_style, R3_VGG16, (5_799_440, 5_794_954)),
    ],
    ids=["alexnet", "vgg16"],
)
def test_r3_nets_are_r3s_tables_layer_by_layer(build, table, counts):
    model = build(num_classes=100)
    assert _table(model) == table
    assert _counts(model) == counts  # R3: total, trainable (non-trainable 4,800; 4,486)


def test_basenet_count_is_computed_from_its_layer_list():
    conv = lambda c_in, c_out, k: c_in * c_out * k * k + c_out  # noqa: E731
    dense = lambda n_in, n_out: n_in * n_out + n_out  # noqa: E731
    expected = conv(3, 6, 5) + conv(6, 16, 5) + dense(5 * 5 * 16, 50) + dense(50, 25)
    assert expected == 24_197
    model = models_keras.basenet(num_classes=25)
    assert _counts(model) == (expected, expected)
    assert model.get_layer("dense1").input.shape[1:] == (400,)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "ReLU", "MaxPooling2D"] * 2 + [
        "Flatten",
        "Dense",
        "ReLU",
        "Dense",
    ]  # R4's Figura 1, row by row, and our Flatten
    assert models_keras.basenet(num_classes=10).count_params() == expected - dense(
        50, 25
    ) + dense(50, 10)


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
