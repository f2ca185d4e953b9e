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


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "fast")
    with pytest.raises(ValueError, match="smoke, cpu, full"):
        profile.current()


def test_one_rule_for_the_environment_and_arguments(monkeypatch):
    from helpers import data

    monkeypatch.setenv(profile.ENV_VAR, "FULL")
    assert profile.current() == profile.validate(" FULL ") == "full"
    assert data.source_of("mnist", profile="SMOKE").startswith("mnist: smoke sample")
    with pytest.raises(ValueError, match="'fast' is not a profile"):
        data.source_of("mnist", profile="fast")


def test_choose_picks_the_active_settings(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "smoke")
    P = profile.choose(smoke=dict(epochs=1), full=dict(epochs=30))
    assert (P.epochs, P.profile) == (1, "smoke")
    monkeypatch.setenv(profile.ENV_VAR, "full")
    assert profile.choose(smoke=dict(epochs=1), full=dict(epochs=30)).epochs == 30


def test_choose_rejects_settings_missing_from_one_profile():
    with pytest.raises(ValueError, match="seeds"):
        profile.choose(smoke=dict(epochs=1), full=dict(epochs=30, seeds=[0, 1, 2]))
    with pytest.raises(ValueError, match="cpu and full .*seeds"):
        profile.choose(
            smoke=dict(epochs=1, seeds=[0]),
            cpu=dict(epochs=5),
            full=dict(epochs=30, seeds=[0, 1, 2]),
        )


def test_choose_names_a_wrong_argument_in_a_clear_error():
    full = dict(epochs=30)
    with pytest.raises(ValueError, match="got fast=, which is not a profile"):
        profile.choose(smoke=dict(epochs=1), fast=dict(epochs=5), full=full)
    with pytest.raises(
        ValueError, match=r"choose\(cpu=...\) got \[5\] \(list\); pass a dict"
    ):
        profile.choose(smoke=dict(epochs=1), cpu=[5], full=full)
    with pytest.raises(ValueError, match=r"choose\(full=...\) got 30 \(int\)"):
        profile.choose(smoke=dict(epochs=1), full=30)
    with pytest.raises(ValueError, match="needs full="):
        profile.choose(smoke=dict(epochs=1))
    with pytest.raises(ValueError, match="'fast' is not a profile"):
        profile.choose(smoke=dict(epochs=1), full=full, profile="fast")


def test_choose_for_another_profile_than_the_active_one(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "smoke")
    settings = dict(smoke=dict(n=1), cpu=dict(n=2), full=dict(n=3))
    P = profile.choose(profile="cpu", **settings)
    assert (P.profile, P.n, P.reductions) == ("cpu", 2, ["n: 2 (full: 3)"])


def test_cpu_profile_lists_every_reduction(monkeypatch):
    settings = dict(
        smoke=dict(epochs=1, seeds=[0], n_train=500),
        cpu=dict(epochs=10, seeds=[0, 1, 2], n_train=11_250),
        full=dict(epochs=50, seeds=[0, 1, 2], n_train=11_250),
    )
    monkeypatch.setenv(profile.ENV_VAR, "cpu")
    P = profile.choose(**settings)
    assert (P.profile, P.epochs) == ("cpu", 10)
    fewer = profile.reductions(
        dict(seeds=[0, 1], n=5_000), dict(seeds=[0, 1, 2], n=50_000)
    )
    assert fewer == ["seeds: 2 (full: 3)", "n: 5000 (full: 50,000)"]
    assert P.reductions == ["epochs: 10 (full: 50)"]
    assert "epochs: 10 (full: 50)" in profile.describe(P)
    monkeypatch.setenv(profile.ENV_VAR, "full")
    P = profile.choose(**settings)
    assert (P.epochs, P.reductions) == (50, [])
    assert "none, the full settings" in profile.describe(P)


def test_cpu_settings_default_to_the_full_ones(monkeypatch):
    monkeypatch.setenv(profile.ENV_VAR, "cpu")
    P = profile.choose(smoke=dict(epochs=1), full=dict(epochs=10))
    assert (P.profile, P.epochs, P.reductions) == ("cpu", 10, [])
    P = profile.choose(smoke=dict(epochs=1), cpu=None, full=dict(epochs=10))
    assert (P.profile, P.epochs, P.reductions) == ("cpu", 10, [])


@pytest.mark.slow
def test_outside_pytest_default_is_full_on_a_gpu_else_cpu(tmp_path):
    import subprocess
    import sys

    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if k not in (profile.ENV_VAR, "PYTEST_CURRENT_TEST")
    }
    out = subprocess.run(
        [sys.executable, "-c", "from helpers import profile; print(profile.current())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ("full" if profile.has_gpu() else "cpu")


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
