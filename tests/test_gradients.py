"""Input gradients on the three Keras backends and for PyTorch, and gradient ascent."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import gradients

ROOT = Path(__file__).resolve().parents[1]

# One process per Keras backend (it is fixed when keras is imported). The TensorFlow
# process makes TomiNet with random weights and BatchNorm statistics far from 0 and 1,
# and saves them; the other backends load that file. Each computes the same filter
# objective's input gradient.
WORKER = """
import sys
import helpers  # first: see helpers/__init__.py
import keras
import numpy as np
from helpers import gradients, models_keras

folder, role = sys.argv[1], sys.argv[2]
keras.utils.set_random_seed(0)
model = models_keras.tominet()
weights = f"{folder}/tominet.weights.h5"
if role == "save":
    rng = np.random.default_rng(0)
    for v in model.non_trainable_variables:  # BatchNorm moving mean and variance
        v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
    model.save_weights(weights)
else:
    model.load_weights(weights)
x = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
results = {}
for layer in ("conv1", "conv2"):
    objective = gradients.filter_objective(model, layer, [0, 3, 7, 15])
    values, grad = gradients.value_and_grad(objective, x)
    results[f"{layer}_values"], results[f"{layer}_grad"] = values, grad
np.savez(f"{folder}/{keras.backend.backend()}.npz", **results)
"""


def _run_backend(backend, folder, role):
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(folder), role],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{backend}: {result.stderr[-3000:]}"
    return dict(np.load(folder / f"{backend}.npz"))


@pytest.mark.slow
def test_the_three_keras_backends_give_the_same_input_gradient(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    reference = _run_backend("tensorflow", tmp_path, "save")
    for layer in ("conv1", "conv2"):
        assert np.abs(reference[f"{layer}_grad"]).max() > 0, (
            "a zero gradient would make the comparison empty"
        )
    for backend in ("torch", "jax"):
        other = _run_backend(backend, tmp_path, "load")
        for key, expected in reference.items():
            np.testing.assert_allclose(
                other[key],
                expected,
                rtol=1e-4,
                atol=1e-5 * np.abs(expected).max(),
                err_msg=f"{backend} vs tensorflow: {key}",
            )


def _tiny_keras_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((12, 12, 1)),
            keras.layers.Conv2D(4, 3, activation="tanh", name="conv"),
            keras.layers.Conv2D(3, 3, activation="tanh", name="conv_b"),
        ]
    )


def _tiny_torch_model():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.Tanh(), torch.nn.Conv2d(4, 3, 3)
    ).eval()


def test_the_gradient_matches_finite_differences():
    """On the backend of this process, the gradient predicts how the
    objective changes."""
    objective = gradients.filter_objective(_tiny_keras_model(), "conv_b", [0, 2])
    rng = np.random.default_rng(0)
    x = rng.random((2, 12, 12, 1)).astype("float32")
    direction = rng.normal(size=x.shape).astype("float32")
    values, grad = gradients.value_and_grad(objective, x)
    eps = 1e-2
    plus, _ = gradients.value_and_grad(objective, x + eps * direction)
    minus, _ = gradients.value_and_grad(objective, x - eps * direction)
    numeric = (plus - minus) / (2 * eps)
    predicted = (grad * direction).reshape(2, -1).sum(axis=1)
    np.testing.assert_allclose(predicted, numeric, rtol=2e-2, atol=1e-4)


@pytest.mark.parametrize(
    "make", [_tiny_keras_model, _tiny_torch_model], ids=["keras", "torch"]
)
def test_gradient_ascent_increases_each_images_objective(make):
    model = make()
    layer = "conv_b" if gradients.framework_of(model) == "keras" else "2"
    shape = (
        (3, 12, 12, 1) if gradients.framework_of(model) == "keras" else (3, 1, 12, 12)
    )
    start = np.random.default_rng(0).random(shape).astype("float32")
    objective = gradients.filter_objective(model, layer, [0, 1, 2])
    result = gradients.gradient_ascent(
        objective, start, steps=8, step_size=0.5, clip=(0, 1)
    )
    assert result.values.shape == (9, 3)
    assert np.all(result.gain > 0), result.values
    assert result.images.min() >= 0 and result.images.max() <= 1
    np.testing.assert_array_equal(
        start, np.random.default_rng(0).random(shape).astype("float32")
    )  # untouched


def test_each_step_has_the_given_length():
    objective = gradients.filter_objective(_tiny_torch_model(), "2", [0, 1])
    start = np.random.default_rng(0).random((2, 1, 12, 12)).astype("float32")
    result = gradients.gradient_ascent(objective, start, steps=1, step_size=0.3)
    moved = np.sqrt(((result.images - start) ** 2).reshape(2, -1).sum(axis=1))
    np.testing.assert_allclose(moved, 0.3, rtol=1e-4)


def test_one_filter_per_image_is_required():
    objective = gradients.filter_objective(_tiny_torch_model(), "2", [0, 1, 2])
    with pytest.raises(ValueError, match="3 filters for a batch of 2 images"):
        gradients.value_and_grad(objective, np.zeros((2, 1, 12, 12), "float32"))


def test_unknown_layers_are_named():
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        gradients.filter_objective(_tiny_keras_model(), "conv9", [0])
    with pytest.raises(ValueError, match="no module 'conv9'"):
        gradients.filter_objective(_tiny_torch_model(), "conv9", [0])


def test_tensorflow_is_imported_only_in_the_gradient_modules_tensorflow_branch():
    """The labs and helpers stay backend-neutral: TensorFlow appears in one
    function only."""
    places = []
    for path in sorted((ROOT / "helpers").glob("*.py")):
        tree = ast.parse(path.read_text())
        in_functions = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if _imports_tensorflow(inner) and id(inner) not in in_functions:
                        in_functions.add(id(inner))
                        places.append(f"{path.name}:{node.name}")
        places += [
            f"{path.name}:<module>"
            for node in ast.walk(tree)
            if _imports_tensorflow(node) and id(node) not in in_functions
        ]
    assert sorted(set(places)) == ["gradients.py:_tensorflow"]


def _imports_tensorflow(node) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == "tensorflow" for a in node.names)
    return (
        isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] == "tensorflow"
    )


def test_convergence_tells_a_levelled_off_climb_from_a_steady_one_and_a_stuck_one():
    t = np.linspace(0, 1, 51)[:, None]
    values = np.hstack(
        [
            t,  # steady climb
            1 - np.exp(-10 * t),  # levels off
            np.zeros_like(t),  # silent filter: zero gradient
            -t,  # went down
            t + 0.05 * np.sin(60 * t),  # climbs, zigzagging
            np.minimum(3 * t, 1) + 0.01 * np.sin(60 * t),  # flat, zigzagging
        ]
    )
    assert list(gradients.convergence(values)) == [
        gradients.RISING,
        gradients.CONVERGED,
        gradients.NO_RISE,
        gradients.NO_RISE,
        gradients.RISING,
        gradients.CONVERGED,
    ]
    # the tail and the threshold are the rule's knobs
    assert gradients.convergence(values[:, :1], settled=0.5)[0] == gradients.CONVERGED
    with pytest.raises(ValueError, match="at least two steps"):
        gradients.convergence(values[:2])
