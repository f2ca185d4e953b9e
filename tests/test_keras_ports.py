"""Keras' MobileNet and ResNet50 in PyTorch: the ports compute what the Keras
nets compute."""

import keras
import numpy as np
import pytest
import torch

import helpers  # noqa: F401  (first: import order)
from helpers import data, keras_ports, pretrained, train, transfer_torch

LAST_LAYER = {"mobilenet": "conv_pw_13_relu", "resnet50": "conv5_block3_out"}
BUILD = {
    "mobilenet": keras.applications.MobileNet,
    "resnet50": keras.applications.ResNet50,
}


def random_keras_net(name, size, seed=0):
    """A Keras net with random weights, BatchNorm statistics included (fresh ones are 0
    and 1, which would hide a mistake in copying them)."""
    rng = np.random.default_rng(seed)
    net = BUILD[name](weights=None, input_shape=(size, size, 3))
    for layer in net.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0, 0.1, beta.shape),
                    rng.normal(0, 0.1, mean.shape),
                    rng.uniform(0.5, 1.5, var.shape),
                ]
            )
    return net


@pytest.mark.parametrize(
    "name, size", [("mobilenet", 64), ("mobilenet", 65), ("resnet50", 67)]
)
def test_the_port_computes_the_keras_features_and_logits(name, size):
    """Odd sizes check where the padding goes (TensorFlow pads after the pixels when it
    is odd)."""
    net = random_keras_net(name, size)
    port = keras_ports.copy_weights(net, keras_ports.PORTS[name]())
    x = np.random.default_rng(1).normal(size=(2, size, size, 3)).astype(np.float32)
    want = keras.ops.convert_to_numpy(
        pretrained.layer_function(net, LAST_LAYER[name])(x)
    )
    with torch.no_grad():
        t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        got = port.extract_features(t).numpy().transpose(0, 2, 3, 1)
        probabilities = torch.softmax(port(t), 1).numpy()
    assert got.shape == want.shape and want.shape[-1] == port.num_features
    np.testing.assert_allclose(got, want, atol=1e-5 * np.abs(want).max())
    np.testing.assert_allclose(
        probabilities, keras.ops.convert_to_numpy(net(x, training=False)), atol=1e-6
    )


def test_every_weight_is_copied_and_a_wrong_net_is_refused():
    net = BUILD["mobilenet"](weights=None, input_shape=(32, 32, 3))
    port = keras_ports.copy_weights(net, keras_ports.MobileNet())
    n_keras = sum(
        int(np.prod(w.shape)) for w in net.weights
    )  # BatchNorm statistics included
    n_torch = sum(
        v.numel()
        for k, v in port.state_dict().items()
        if not k.endswith("num_batches_tracked")
    )
    assert (
        n_keras == n_torch == 4_253_864
    )  # keras.io: MobileNet, 4.3M parameters (21,888 of them statistics)
    with pytest.raises(ValueError, match="has no module for Keras layer 'conv1'"):
        keras_ports.copy_weights(net, keras_ports.ResNet50())


@pytest.mark.slow
@pytest.mark.usefixtures("fits_on_the_cpu")
def test_load_gives_keras_nets_as_torch_backbones_for_the_transfer_code():
    """One parameter away: the transfer lab's code runs unchanged on R1's MobileNet and
    R4's ResNet50."""
    x = np.random.default_rng(0).normal(size=(4, 3, 64, 64)).astype(np.float32)
    for name, channels in (("mobilenet", 1024), ("resnet50", 2048)):
        net = pretrained.load(name, pretrained=False, framework="torch", device="cpu")
        assert (
            net.framework == "torch"
            and not net.channels_last
            and "port of Keras'" in net.describe()
        )
        assert net.preprocess(data.load_image("dog"), size=64).shape == (
            1,
            3,
            64,
            64,
        )  # any size
        assert transfer_torch.n_features(net) == channels
        assert transfer_torch.extract_features(net, x, pooled=False).shape == (
            4,
            channels,
            2,
            2,
        )
        assert net.activations(x, net.late_layers[-1]).shape == (4, channels, 2, 2)
    classifier = lambda: transfer_torch.BackboneClassifier(
        net, 2, frozen_batchnorm=True
    )  # noqa: E731
    run = train.fit_torch(
        classifier,
        ((x, np.array([0, 1, 0, 1])), None),
        seed=0,
        epochs=1,
        batch_size=2,
        validation=None,
    )
    assert np.isfinite(run.history["loss"][0])


def test_efficientnet_has_no_keras_port():
    with pytest.raises(ValueError, match="torch only"):
        pretrained.load("efficientnet-lite0", framework="keras", pretrained=False)
