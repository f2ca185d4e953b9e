"""Importing the helpers first prevents the TensorFlow-then-triton
segfault (TOOLING.md)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # subprocesses: `pytest -m 'not slow'` skips them


CRASHER = (
    "import keras, torchvision, torch; "
    "torch.optim.Adam([torch.zeros(1, requires_grad=True)]); print('alive')"
)


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "KERAS_BACKEND": "tensorflow"},
    )


def test_helpers_first_then_keras_and_torchvision_does_not_crash():
    result = _run("import helpers; " + CRASHER)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "alive" in result.stdout


def test_the_guard_is_what_prevents_the_crash():
    """Without the helpers first, this environment does crash (a signal, not an
    exception): the guard in helpers/__init__ is what the first test relies on."""
    pytest.importorskip("triton")  # no triton (CPU-only torch builds): no clash
    result = _run(CRASHER)
    assert result.returncode < 0 or result.returncode == 139, (
        f"exit {result.returncode}: this torch/tensorflow pair no longer crashes; "
        "helpers' triton guard (helpers/__init__.py) and this test can go"
    )
