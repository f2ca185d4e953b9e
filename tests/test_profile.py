"""Profiles and seeding."""
import numpy as np
import pytest

from helpers import profile


def test_default_is_smoke_under_pytest(monkeypatch):
    monkeypatch.delenv(profile.ENV_VAR, raising=False)
    assert profile.current() == "smoke"


def test_env_var_chooses_profile(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "FULL")
    assert profile.current() == "full"
    assert not profile.is_smoke()


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "fast")
    with pytest.raises(ValueError, match="smoke, full"):
        profile.current()


def test_choose_picks_the_active_settings(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "smoke")
    P = profile.choose(smoke=dict(epochs=1), full=dict(epochs=30))
    assert (P.epochs, P.profile) == (1, "smoke")
    monkeypatch.setenv(profile.ENV_VAR, "full")
    assert profile.choose(smoke=dict(epochs=1), full=dict(epochs=30)).epochs == 30


def test_choose_rejects_settings_missing_from_one_profile():
    with pytest.raises(ValueError, match="seeds"):
        profile.choose(smoke=dict(epochs=1), full=dict(epochs=30, seeds=[0, 1, 2]))


def test_outside_pytest_default_is_full(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k not in (profile.ENV_VAR, "PYTEST_CURRENT_TEST")}
    out = subprocess.run([sys.executable, "-c", "from helpers import profile; print(profile.current())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "full"


def test_seed_everything_seeds_python_numpy_and_torch():
    import random

    import torch

    draws = []
    for _ in range(2):
        profile.seed_everything(7)
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    profile.seed_everything(8)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) != draws[0]


def test_has_gpu_asks_torch_then_the_keras_backend(monkeypatch):
    import keras
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert profile.has_gpu() is True
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if keras.backend.backend() in ("tensorflow", "jax"):
        monkeypatch.setattr(keras.distribution, "list_devices", lambda: ["gpu:0"])
        assert profile.has_gpu() is True
        monkeypatch.setattr(keras.distribution, "list_devices", lambda: ["cpu:0"])
    assert profile.has_gpu() is False
