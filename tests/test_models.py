"""Parameter counts of the practicals' Keras models (facts from the reports)."""

import pytest

from helpers import models_keras


def _counts(model):
    import numpy as np

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


@pytest.mark.parametrize(
    "build, k, total, trainable",
    [
        (models_keras.dense_mnist_net, 10, 16_140, 16_080),  # R3 EJ8_Dense
        (models_keras.tominet, 10, 12_986, 12_890),  # R0 / R3 EJ8_Conv
        (models_keras.tominet, 9, 12_201, 12_201 - 96),  # R0, 9-class head
    ],
)
def test_parameter_counts_match_the_reports(build, k, total, trainable):
    assert _counts(build(num_classes=k)) == (total, trainable)


def test_tominet_flattens_784_features_and_outputs_probabilities():
    import numpy as np

    model = models_keras.tominet()
    assert model.get_layer(index=6).output.shape[1:] == (784,)
    probabilities = np.asarray(
        model(np.zeros((2, 28, 28, 1), "float32"), training=False)
    )
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
