"""Run profiles (``smoke`` / ``full``) and seeding.

One environment variable, ``LABS_PROFILE``, chooses the profile. When it is unset the profile is
``smoke`` under pytest and ``full`` everywhere else (Jupyter, Colab, the provenance runner).

A lab picks its sizes once, at the top::

    P = profile.choose(smoke=dict(n_train=2_000, epochs=1), full=dict(n_train=None, epochs=10))
    P.epochs
"""
from __future__ import annotations

import os
import random
import sys
from types import SimpleNamespace

ENV_VAR = "LABS_PROFILE"
PROFILES = ("smoke", "full")


def current() -> str:
    """The active profile name: ``LABS_PROFILE`` if set, else ``smoke`` under pytest, else ``full``."""
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if not name:
        return "smoke" if ("PYTEST_CURRENT_TEST" in os.environ or "pytest" in sys.modules) else "full"
    if name not in PROFILES:
        raise ValueError(f"{ENV_VAR}={name!r} is not a profile; use one of {', '.join(PROFILES)}.")
    return name


def is_smoke() -> bool:
    """True in the fast smoke profile."""
    return current() == "smoke"


def choose(*, smoke: dict, full: dict) -> SimpleNamespace:
    """The settings of the active profile, as attributes (``P.epochs``).

    Both profiles must name the same settings, so a lab cannot silently miss one.
    """
    if set(smoke) != set(full):
        raise ValueError(f"profiles name different settings: {sorted(set(smoke) ^ set(full))}")
    chosen = smoke if is_smoke() else full
    return SimpleNamespace(profile=current(), **chosen)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, Keras (and its backend) and PyTorch with one call."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.manual_seed(seed)  # also seeds every CUDA device
    if "keras" in sys.modules or _installed("keras"):
        import keras

        keras.utils.set_random_seed(seed)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def has_gpu() -> bool:
    """True when the frameworks the labs use can reach a GPU: PyTorch (and so Keras on the torch
    backend) sees CUDA, or Keras' own backend lists a GPU. Labs use it to pick between the
    practical's own settings (a GPU run) and a reduced setting that fits a CPU."""
    try:
        import torch

        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    if "keras" not in sys.modules and not _installed("keras"):
        return False
    import keras

    if keras.backend.backend() not in ("tensorflow", "jax"):  # torch: answered above
        return False
    return any(device.startswith("gpu") for device in keras.distribution.list_devices())
