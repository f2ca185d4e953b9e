"""Where a lab's kernel runs: the device, the Keras backend, library versions, the
threads it may use, the environment it gets, the data files it read and the fonts it
drew letters from (and whether it has the fonts it needs).

Importable with the standard library alone (the GPU machine's lab runner shares
:data:`THREAD_VARS`); :mod:`helpers` is imported by the functions that need it.
"""

from __future__ import annotations

import functools
import json
import os
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

from . import ROOT, MachineryError

LIBRARIES = (
    "keras",
    "tensorflow",
    "tensorflow-cpu",
    "torch",
    "torchvision",
    "jax",
    "numpy",
    "scikit-learn",
    "openTSNE",
)
# What caps a kernel's threads: OpenMP (PyTorch, openTSNE), BLAS and TensorFlow.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
# A stamped data file's root: LABS_DATA_DIR, LABS_CACHE_DIR, or one of these.
SAMPLES_ROOT, ELSEWHERE = "helpers/samples", "elsewhere"


@functools.cache
def device_name() -> str:
    """The GPU's name if PyTorch sees one, else the CPU model and core count."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"GPU: {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"CPU: {_cpu_model()} ({os.cpu_count()} cores)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def keras_backend() -> str:
    """The Keras backend a kernel started now would use (``KERAS_BACKEND``
    or keras.json)."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries the labs use (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def threads_per_lab(at_once: int) -> int:
    """The threads each of ``at_once`` labs executed together gets: the cores shared
    out, at least one."""
    return max(1, (os.cpu_count() or 1) // at_once)


def kernel_env(
    profile: str,
    data_log: Path,
    threads: int | None = None,
    fonts_log: Path | None = None,
) -> dict[str, str]:
    """The environment a lab's kernel gets: this one, plus the profile, this
    checkout's helpers first on the path, the data log (and fonts log), and absolute
    data and cache folders (relative ones are taken from the caller's working
    directory, not the kernel's, ``labs/``); with ``threads``, every library's thread
    count capped."""
    from helpers import letters
    from helpers import profile as profiles
    from helpers.data import sources

    env = dict(os.environ)
    env[profiles.ENV_VAR] = profile
    # ... this checkout's helpers first, whatever an editable install points at
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    try:
        data_dir = sources.data_dir()
    except sources.DataError as e:
        raise MachineryError(str(e)) from None
    if data_dir:
        env[sources.DATA_DIR_VAR] = str(data_dir.resolve())
    env[sources.CACHE_DIR_VAR] = str(sources.cache_dir().resolve())
    env[sources.READ_LOG_VAR] = str(data_log)
    if fonts_log:
        env[letters.FONTS_LOG_VAR] = str(fonts_log)
    if threads:
        env.update(dict.fromkeys(THREAD_VARS, str(threads)))
    return env


def data_files(log: Path, env: dict[str, str]) -> list[dict]:
    """Each data file a run read (from its log), once: SHA-256, and path relative to the
    folder (``root``) it was found in, never absolute."""
    from helpers.data import sources

    roots = [
        (name, Path(env[name]).resolve())
        for name in (sources.DATA_DIR_VAR, sources.CACHE_DIR_VAR)
        if env.get(name)
    ] + [(SAMPLES_ROOT, sources.SAMPLES_DIR.resolve())]
    files, seen = [], set()
    for line in log.read_text().splitlines():
        sha256, _, name = line.partition("  ")
        if name and (sha256, name) not in seen:
            seen.add((sha256, name))
            path = Path(name)
            root, relative = next(
                ((r, path.relative_to(p)) for r, p in roots if path.is_relative_to(p)),
                (ELSEWHERE, Path(path.name)),
            )
            files.append({"path": relative.as_posix(), "root": root, "sha256": sha256})
    return files


def fonts_used(log: Path) -> list[str]:
    """The font families a run drew letters from (from its log), sorted, once each."""
    return sorted({line for line in log.read_text().splitlines() if line})


LETTER_RENDERERS = ("load_letters(", "render_letters(")  # calls that render letters


def missing_fonts(nb, profile: str) -> str | None:
    """Why ``nb`` may not run in ``profile`` (None: it may): it renders letters, the
    profile is not smoke, and neither a handwriting font nor a copy of EMNIST letters
    is here (the one-line refusal that says how to install the fonts)."""
    from helpers import letters
    from helpers.data import registry, sources

    code = "".join(c.source for c in nb.cells if c.cell_type == "code")
    if profile == "smoke" or not any(call in code for call in LETTER_RENDERERS):
        return None
    roots = [r for r in (sources.data_dir(), sources.cache_dir()) if r]
    emnist = [f.path for fs in registry.dataset("emnist").files.values() for f in fs]
    if any((r / f).is_file() for r in roots for f in emnist):
        return None
    return None if letters.handwriting_fonts() else letters.missing_handwriting(profile)
