"""The Keras-basics lab (R3): its models' parameter counts, and the lab on the
torch backend."""

import shutil

import numpy as np
import pytest

from helpers import models_keras
from machinery import notebooks, runner


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


@pytest.mark.parametrize(
    "build, kwargs, total, trainable",
    [
        (models_keras.imdb_embedding_mlp, {}, 1_937_121, 1_937_121),  # R3
        (
            models_keras.imdb_conv_net,
            {},
            172_305,
            172_305 - 192,
        ),  # R3; 3 BatchNorms' statistics
        (models_keras.pima_net, {}, 673, 673 - 72),  # R3
        (models_keras.denoising_autoencoder, {}, 12_537, 12_537),  # R3
        (models_keras.imdb_bow_net, {"regularisation": "l2"}, 1_011_121, 1_011_121),
        (
            models_keras.imdb_bow_net,
            {"regularisation": "dropout+l2"},
            1_011_121,
            1_011_121,
        ),
        (
            models_keras.imdb_bow_net,
            {"regularisation": "batchnorm+l2"},
            1_011_561,
            1_011_561 - 220,
        ),
        (models_keras.xor_net, {"hidden": 1}, 5, 5),
        (models_keras.xor_net, {"hidden": 1, "concat": True}, 7, 7),
        (models_keras.xor_net, {"hidden": 2}, 9, 9),
        (models_keras.xor_net, {"hidden": 2, "concat": True}, 11, 11),
        (models_keras.two_layer_classifier, {}, 25_450, 25_450),
        (models_keras.logistic_map_net, {}, 321, 321),
    ],
)
def test_parameter_counts(build, kwargs, total, trainable):
    assert _counts(build(**kwargs)) == (total, trainable)


def test_shapes_and_the_concatenations():
    import keras

    conv = models_keras.imdb_conv_net()
    assert conv.get_layer(index=8).output.shape[1:] == (
        8000,
    )  # Flatten: 125 positions x 64 filters
    mlp = models_keras.imdb_embedding_mlp()
    assert mlp.get_layer("input_and_hidden").output.shape[1:] == (16_010,)
    xor = models_keras.xor_net(hidden=1, concat=True)
    assert isinstance(xor.get_layer("input_and_hidden"), keras.layers.Concatenate)
    assert xor.get_layer("output").input.shape[1:] == (3,)
    ae = models_keras.denoising_autoencoder()
    assert ae.get_layer("code").output.shape[1:] == (7, 7, 8)
    out = np.asarray(
        ae.predict(
            np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32), verbose=0
        )
    )
    assert out.shape == (2, 28, 28, 1) and 0 <= out.min() and out.max() <= 1
    with pytest.raises(ValueError):
        models_keras.imdb_bow_net("dropout")


@pytest.mark.slow
def test_xor_is_solved_with_one_hidden_unit_only_through_the_concatenation():
    """One hidden unit: without the shortcut at most 3 of 4 points; with it, all 4 (a
    fixed seed)."""
    import keras

    from helpers import train

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    y = np.array([0, 1, 1, 0], "float32")
    data = ((np.tile(x, (50, 1)), np.tile(y, 50)), (x, y))
    accuracy = {
        concat: train.fit_keras(
            lambda concat=concat: models_keras.xor_net(1, concat),
            data,
            seed=0,
            epochs=20,
            batch_size=4,
            validation=None,
            loss="binary_crossentropy",
            optimizer=lambda: keras.optimizers.Adam(0.05),
        ).test["accuracy"]
        for concat in (False, True)
    }
    assert accuracy == {False: 0.75, True: 1.0}


@pytest.mark.slow
def test_the_lab_runs_on_the_torch_backend(tmp_path, monkeypatch):
    """Smoke run of a copy of the lab with KERAS_BACKEND=torch (the kernel
    inherits os.environ)."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setenv("LABS_PROFILE", "smoke")
    lab = tmp_path / "keras_basics.ipynb"
    shutil.copy(notebooks.LABS / "keras_basics.ipynb", lab)
    record = runner.run(lab, profile="smoke")
    assert record["keras_backend"] == "torch"
    nb = notebooks.read(lab)
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]
    assert all(c.execution_count for c in code if c.source.strip())
    text = "".join(
        o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream"
    )
    assert "Keras backend torch" in text and "parameters (report: 1,937,121)" in text
