"""Run profiles (``smoke`` / ``cpu`` / ``full``) and seeding.

Three profiles say what ran:

* ``smoke``: the tiny real samples shipped in ``helpers/samples``; checks that a
  lab runs.
* ``cpu``: the largest setting of each lab that fits a 2-core CPU; every reduction
  is listed.
* ``full``: the practical's own settings (from its report) on the full data sets.

One environment variable, ``LABS_PROFILE``, chooses the profile. When it is unset the
profile is ``smoke`` under pytest, and elsewhere ``full`` where a GPU is present, else
``cpu``. ``LABS_PROFILE=full`` on a CPU runs the full settings, slowly, if asked.

A lab picks its sizes once, at the top::

    P = profile.choose(
        smoke=dict(epochs=1, seeds=[0]),
        cpu=dict(epochs=10, seeds=[0, 1, 2]),
        full=dict(epochs=20, seeds=[0, 1, 2, 4, 5]),
    )
    P.epochs, P.reductions
"""

from __future__ import annotations

import os
import random
import sys
from types import SimpleNamespace

ENV_VAR = "LABS_PROFILE"
PROFILES = ("smoke", "cpu", "full")


def validate(name: str) -> str:
    """``name`` as a profile (case and surrounding spaces ignored), or a
    clear ``ValueError``.

    The one rule for every way a profile is given: the environment, a ``profile=``
    argument, the machinery's ``run --profile``.
    """
    cleaned = str(name).strip().lower()
    if cleaned not in PROFILES:
        raise ValueError(
            f"{name!r} is not a profile; use one of {', '.join(PROFILES)} "
            f"(for example {ENV_VAR}=cpu)."
        )
    return cleaned


def under_pytest() -> bool:
    """True inside a pytest run (the labs' kernels see ``LABS_PROFILE=smoke`` set
    for them)."""
    return "PYTEST_CURRENT_TEST" in os.environ or "pytest" in sys.modules


def default() -> str:
    """The profile when none is asked for: ``full`` with a GPU, else ``cpu``."""
    return "full" if has_gpu() else "cpu"


def current() -> str:
    """The active profile: ``LABS_PROFILE`` if set, else ``smoke`` under pytest, else
    :func:`default`."""
    name = os.environ.get(ENV_VAR, "").strip()
    if name:
        return validate(name)
    return "smoke" if under_pytest() else default()


def reductions(cpu: dict, full: dict) -> list[str]:
    """Each setting where ``cpu`` departs from ``full``: ``"epochs: 10 (full: 20)"``,
    and for lists of different lengths (seeds, say) their lengths:
    ``"seeds: 3 (full: 5)"``."""
    cut = []
    for key in full:
        mine, theirs = cpu[key], full[key]
        if mine == theirs:
            continue
        if _is_list(mine) and _is_list(theirs) and len(mine) != len(theirs):
            mine, theirs = len(mine), len(theirs)
        cut.append(f"{key}: {_short(mine)} (full: {_short(theirs)})")
    return cut


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, range))


def _short(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def choose(*, profile: str | None = None, **settings: dict) -> SimpleNamespace:
    """The settings of the active profile, as attributes (``P.epochs``).

    ``settings``: one dict of settings per profile, ``smoke=`` and ``full=`` required,
    ``cpu=`` left out (or None) when the full settings fit a CPU. All must name the same
    settings, so a lab cannot silently miss one. ``profile``: choose for that profile
    instead of the active one. The result also carries ``P.profile`` and
    ``P.reductions``: what the profile cut from ``full`` (empty in ``full``; in
    ``smoke``, a reminder that nothing it finds counts).
    """
    if settings.get("cpu") is None:  # left out or None: the full settings fit a CPU
        settings.pop("cpu", None)
    _check_settings(settings)
    settings.setdefault("cpu", dict(settings["full"]))
    name = current() if profile is None else validate(profile)
    cut = {
        "smoke": ["tiny committed samples, for testing only: its numbers mean nothing"],
        "cpu": reductions(settings["cpu"], settings["full"]),
        "full": [],
    }[name]
    return SimpleNamespace(profile=name, reductions=cut, **settings[name])


def _check_settings(settings: dict) -> None:
    """A clear ``ValueError`` unless ``settings`` are dicts for known profiles, smoke
    and full among them, all naming the same settings."""
    for name in settings:
        if name not in PROFILES:
            raise ValueError(
                f"choose() got {name}=, which is not a profile; pass the settings of "
                f"{', '.join(p + '=' for p in PROFILES)} (cpu= optional)."
            )
    for name in ("smoke", "full"):
        if name not in settings:
            raise ValueError(f"choose() needs {name}=, the {name} profile's settings.")
    for name, value in settings.items():
        if not isinstance(value, dict):
            raise ValueError(
                f"choose({name}=...) got {value!r} ({type(value).__name__}); pass a "
                f"dict of settings, e.g. {name}=dict(epochs=10, seeds=[0, 1, 2])."
            )
    for name, value in settings.items():
        if set(value) != set(settings["full"]):
            different = sorted(set(value) ^ set(settings["full"]))
            raise ValueError(f"{name} and full name different settings: {different}")


def describe(P: SimpleNamespace) -> str:
    """One line for a lab's setup cell: the profile and what it reduced."""
    cut = "; ".join(P.reductions) if P.reductions else "none, the full settings"
    return f"profile {P.profile}; reductions: {cut}"


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
    """True when the frameworks the labs use can reach a GPU: PyTorch (and so Keras on
    the torch backend) sees CUDA, or Keras' own backend lists a GPU."""
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
