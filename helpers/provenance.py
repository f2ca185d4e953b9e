"""Execute labs in a profile, stamp provenance, and detect stale stored outputs.

This is the only module that knows what a notebook file is. From the repository root::

    # every lab, one after another
    python -m helpers.provenance run labs/ --profile cpu
    # two at a time, longest first, the cores shared out between them
    python -m helpers.provenance run labs/ --profile cpu --jobs 2
    python -m helpers.provenance run labs/tsne.ipynb --profile-time
    # every lab: executed, stamped, not stale
    python -m helpers.provenance check --times
    # rewrite each lab's Colab cell from _config.yml
    python -m helpers.provenance sync-colab
    # write book/reproduction_summary.md
    python -m helpers.provenance summary

``run`` executes each notebook in place (outputs stored in the file) and records in its
metadata the profile, the device, library versions, Keras backend, wall time and where
it went (per ``## `` section), a hash of the code cells, a hash of the helpers and the
SHA-256 of every data file the run read; a short provenance note goes into the page,
right under the title. A lab that fails is left exactly as it was and the others still
run; a table at the end says which failed. With ``--jobs N``, N labs run at once, each
kernel limited to its share of the cores (recorded in the provenance). One process at a
time executes a notebook (a lock in the temp folder). Relative ``LABS_DATA_DIR`` and
``LABS_CACHE_DIR`` are taken relative to where ``run`` is started.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import os
import platform
import re
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from .data import sources
from .data.sources import atomic_write

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "labs"
CONFIG = ROOT / "_config.yml"
METADATA_KEY = "provenance"
PROVENANCE_TAG = "provenance"
COLAB_TAG = "colab-setup"
PACKAGE = "deep-learning-practicals"
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
# The first pattern that matches a `## ` heading names the phase of its section;
# else "other".
PHASES = (
    ("evaluation", r"\bevaluat|\btest(ing)?\b|\bresults\b|reported vs"),
    ("training", r"\btrain|^models?\b|\bfit(ting)?\b"),
    ("data", r"\bdata(sets?)?\b|\bloading\b"),
)
BEFORE_SECTIONS = "(before the first section)"
# What caps a kernel's threads: OpenMP (PyTorch, openTSNE), BLAS and TensorFlow.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


class ProvenanceError(Exception):
    """A notebook, setting or lock the runner cannot use; the message names it."""


# --- reading and writing notebooks ----------------------------------------------------


def read(path):
    """The notebook at ``path`` (nbformat v4); a clear :class:`ProvenanceError` if it is
    not one."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        what = "a folder, not a notebook" if path.is_dir() else "no such file"
        raise ProvenanceError(f"{path}: {what}")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as e:  # invalid JSON, JSON that is no notebook, binary data...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ProvenanceError(
            f"{path} is not a Jupyter notebook ({type(e).__name__}: {first})"
        ) from None


def notebook_paths(names) -> list[Path]:
    """The notebooks ``names`` mean (a folder: every ``*.ipynb`` in it, sorted), each
    read once so that a missing or broken one is reported before anything runs."""
    paths = []
    for name in map(Path, names):
        found = sorted(name.glob("*.ipynb")) if name.is_dir() else [name]
        if not found:
            raise ProvenanceError(f"{name}: a folder without notebooks")
        paths += found
    for path in paths:
        read(path)
    return paths


def write(nb, path) -> None:
    """Write ``nb`` to ``path`` all or nothing (a temporary file beside it, then
    ``os.replace``), keeping the file's permissions: a failure midway, such as a full
    disk, leaves the old file as it was."""
    import nbformat

    path = Path(path)
    text = nbformat.writes(nb)
    data = (text if text.endswith("\n") else text + "\n").encode()
    with atomic_write(path, suffix=".tmp") as out:
        if path.exists():
            os.fchmod(out.fileno(), stat.S_IMODE(path.stat().st_mode))
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def check_writable(path: Path) -> None:
    """Raise :class:`ProvenanceError` unless ``path`` and its folder can be written.

    Tried for real (the notebook opened for appending, a temporary file made in
    its folder, nothing changed), since ``os.access`` answers yes to root whatever
    the permissions.
    """
    attempts = (
        (str(path), lambda: open(path, "ab")),
        (f"the folder {path.parent}", lambda: tempfile.TemporaryFile(dir=path.parent)),
    )
    for target, attempt in attempts:
        try:
            attempt().close()
        except OSError as e:
            raise ProvenanceError(
                f"{target} cannot be written ({e.strerror}), so {path} was not "
                "executed; make it writable."
            ) from None


def lock_path(path) -> Path:
    """The lock file of the notebook at ``path``: in the temp folder, named after its
    absolute path, so nothing is ever left beside the labs."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"labs-provenance-{key}.lock"


@contextmanager
def exclusive(path):
    """Hold the lock that lets one process at a time execute the notebook at ``path``.

    An ``flock`` on :func:`lock_path`, removed when released. The system drops the lock
    when its holder exits, even when killed, so a stale lock never blocks.
    :class:`ProvenanceError` if another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    lock = lock_path(path)
    while True:
        f = open(lock, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            f.close()
            raise ProvenanceError(
                f"{path} is already being executed (process {holder}, lock {lock}); "
                "wait for it to finish."
            ) from None
        if lock.exists() and lock.stat().st_ino == os.fstat(f.fileno()).st_ino:
            break
        f.close()  # its last holder removed that file meanwhile: lock the new one
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        lock.unlink(missing_ok=True)  # removed while still held, then released
        f.close()


def code_sources(nb) -> list[str]:
    """The source of every non-empty code cell, in order."""
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def code_hash(nb) -> str:
    """SHA-256 over the code cells (trailing whitespace ignored): changes when the
    code changes."""
    digest = hashlib.sha256()
    for source in code_sources(nb):
        normalised = "\n".join(line.rstrip() for line in source.strip().splitlines())
        digest.update(normalised.encode() + b"\0")
    return digest.hexdigest()


def helpers_hash() -> str:
    """SHA-256 over the source of every module in ``helpers/`` (names and
    contents, sorted).

    It changes whenever the code the labs call changes: stamped with each run, and the
    key of caches of results computed by that code.
    """
    digest = hashlib.sha256()
    helpers = ROOT / "helpers"
    for module in sorted(helpers.rglob("*.py")):
        name = module.relative_to(helpers).as_posix()
        digest.update(name.encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


def lab_paths() -> list[Path]:
    """Every lab notebook, sorted."""
    return sorted(LABS.glob("*.ipynb"))


# --- the Colab cell -------------------------------------------------------------------


def repository() -> tuple[str, str]:
    """(url, branch) of the book's repository, from ``_config.yml`` (its
    one definition)."""
    import yaml

    try:
        config = yaml.safe_load(CONFIG.read_text())
        repo = config["repository"]
        url = repo["url"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise ProvenanceError(
            f"{CONFIG} names no repository ({type(e).__name__}: {e}); the Colab cell "
            "installs the helpers from it. Add:\n  repository:\n"
            "    url: https://github.com/OWNER/REPO\n    branch: main"
        ) from None
    return url.rstrip("/"), repo.get("branch", "master")


def colab_cell_source() -> str:
    """The first code cell of every lab: installs the helpers in Colab, does
    nothing elsewhere."""
    url, branch = repository()
    return (
        "# Colab only: install this book's helpers from its repository "
        "(elsewhere: nothing to do).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    package = "{PACKAGE}[colab] @ git+{url}@{branch}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], '
        "check=True)"
    )


def sync_colab_cell(nb) -> bool:
    """Make the first code cell the Colab cell (collapsed in the book); True if
    it changed."""
    import nbformat

    source, tags = colab_cell_source(), [COLAB_TAG, "hide-input"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and COLAB_TAG in code[0].metadata.get("tags", []):
        changed = (code[0].source, code[0].metadata["tags"]) != (source, tags)
        code[0].source, code[0].metadata["tags"] = source, tags
        return changed
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
    nb.cells.insert(nb.cells.index(code[0]) if code else len(nb.cells), cell)
    return True


# --- describing where a notebook ran --------------------------------------------------


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
    import json

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


# --- where the time goes --------------------------------------------------------------


def phase(heading: str) -> str:
    """The phase a ``## `` heading names: data, training, evaluation or other."""
    return next((p for p, rule in PHASES if re.search(rule, heading, re.I)), "other")


def cell_seconds(cell) -> float | None:
    """Seconds the kernel was busy with a code cell, from the timestamps nbclient stores
    in its metadata (None if it was not executed)."""
    times = cell.get("metadata", {}).get("execution", {})
    start, end = times.get("iopub.status.busy"), times.get("iopub.status.idle")
    if not (start and end):
        return None
    instant = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (instant(end) - instant(start)).total_seconds()


def time_split(nb) -> dict:
    """Seconds spent in each ``## `` section's code cells (heading and phase kept), and
    the totals per phase; sections without executed code are left out."""
    section = {"heading": BEFORE_SECTIONS, "phase": "other", "cells": 0, "seconds": 0.0}
    sections = [section]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if m := re.match(r"##\s+(.*?)[\s#]*$", line):
                    heading = m.group(1)
                    section = dict(
                        heading=heading, phase=phase(heading), cells=0, seconds=0.0
                    )
                    sections.append(section)
        elif cell.cell_type == "code" and (seconds := cell_seconds(cell)) is not None:
            section["cells"] += 1
            section["seconds"] += seconds
    sections = [s | {"seconds": round(s["seconds"], 1)} for s in sections if s["cells"]]
    phases = {p: 0.0 for p in ("data", "training", "evaluation", "other")}
    for s in sections:
        phases[s["phase"]] = round(phases[s["phase"]] + s["seconds"], 1)
    return {"phases": phases, "sections": sections}


def format_time_split(split: dict, wall_s: float | None = None) -> str:
    """Where the time went, one line per phase (its sections and their seconds)."""
    total = sum(split["phases"].values())
    wall = f" of {_duration(wall_s)} wall time" if wall_s else ""
    lines = [f"  {_duration(total)} in code cells{wall}:"]
    for name, seconds in sorted(split["phases"].items(), key=lambda kv: -kv[1]):
        parts = [
            f"{s['heading']} {_duration(s['seconds'])}"
            for s in split["sections"]
            if s["phase"] == name
        ]
        if parts:
            share = f"{100 * seconds / total:3.0f}%" if total else "  -"
            lines.append(
                f"    {name:<10} {_duration(seconds):>12} {share}  {'; '.join(parts)}"
            )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


# --- the data files a run read --------------------------------------------------------


def threads_per_lab(jobs: int) -> int:
    """The threads each of ``jobs`` labs executed at once gets: the cores shared out,
    at least one."""
    return max(1, (os.cpu_count() or 1) // jobs)


def kernel_env(
    profile: str, data_log: Path, threads: int | None = None
) -> dict[str, str]:
    """The environment a lab's kernel gets: this one, plus the profile, this
    checkout's helpers first on the path, the data log, and absolute data and cache
    folders (relative ones are taken from the caller's working directory, not the
    kernel's, ``labs/``); with ``threads``, every library's thread count capped."""
    from . import profile as profiles

    env = dict(os.environ)
    env[profiles.ENV_VAR] = profile
    # ... this checkout's helpers first, whatever an editable install points at
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    try:
        data_dir = sources.data_dir()
    except sources.DataError as e:
        raise ProvenanceError(str(e)) from None
    if data_dir:
        env[sources.DATA_DIR_VAR] = str(data_dir.resolve())
    env[sources.CACHE_DIR_VAR] = str(sources.cache_dir().resolve())
    env[sources.READ_LOG_VAR] = str(data_log)
    if threads:
        env.update(dict.fromkeys(THREAD_VARS, str(threads)))
    return env


def data_files(log: Path, env: dict[str, str]) -> list[dict]:
    """Each data file a run read (from its log), once: SHA-256, and path relative to the
    folder (``root``) it was found in, never absolute."""
    roots = [
        (name, Path(env[name]).resolve())
        for name in (sources.DATA_DIR_VAR, sources.CACHE_DIR_VAR)
        if env.get(name)
    ] + [("helpers/samples", sources.SAMPLES_DIR.resolve())]
    files, seen = [], set()
    for line in log.read_text().splitlines():
        sha256, _, name = line.partition("  ")
        if name and (sha256, name) not in seen:
            seen.add((sha256, name))
            path = Path(name)
            root, relative = next(
                ((r, path.relative_to(p)) for r, p in roots if path.is_relative_to(p)),
                ("elsewhere", Path(path.name)),
            )
            files.append({"path": relative.as_posix(), "root": root, "sha256": sha256})
    return files


# --- the provenance record ------------------------------------------------------------


def describe(
    nb,
    profile: str,
    seconds: float,
    helpers_sha256: str = "",
    files=(),
    threads: int | None = None,
    at_once: int = 1,
) -> dict:
    """The provenance record stored in the notebook's metadata; ``threads`` and
    ``at_once``: the kernel's thread cap and how many labs ran at the same time."""
    return {
        "profile": profile,
        "device": device_name(),
        "keras_backend": keras_backend(),
        "versions": library_versions(),
        "wall_time_s": round(seconds, 1),
        "labs_at_once": at_once,
        "threads": threads or os.cpu_count(),
        "time_split_s": time_split(nb),
        "executed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code_sha256": code_hash(nb),
        "helpers_sha256": helpers_sha256,
        "data_files": list(files),
    }


def summary(record: dict) -> str:
    """One readable paragraph of a provenance record, for the page."""
    v = record["versions"]
    libs = ", ".join(
        f"{name} {v[name]}"
        for name in ("keras", "tensorflow", "tensorflow-cpu", "torch", "numpy")
        if name in v
    )
    phases = record.get("time_split_s", {}).get("phases", {})
    shares = ", ".join(
        f"{name} {100 * s / record['wall_time_s']:.0f}%"
        for name, s in sorted(phases.items(), key=lambda kv: -kv[1])
        if s >= record["wall_time_s"] / 200
    )
    n = len(record.get("data_files", []))
    at_once, threads = record.get("labs_at_once", 1), record.get("threads")
    shared = (
        f", {at_once} labs at a time, {threads} thread{'s' * (threads != 1)} each"
        if at_once > 1
        else ""
    )
    return (
        f"**Provenance.** Executed in the `{record['profile']}` profile on "
        f"{record['device']}, Keras backend `{record['keras_backend']}` "
        f"(Python {v['python']}, {libs}); wall time {_duration(record['wall_time_s'])}"
        + (f" ({shares})" if shares else "")
        + shared
        + f"; {record['executed_at'][:10]}; code cells SHA-256 "
        f"`{record['code_sha256'][:12]}`, helpers SHA-256 "
        f"`{record.get('helpers_sha256', '?')[:12]}`; {n} data file{'s' * (n != 1)} "
        "read, each checked against its SHA-256 (listed in the notebook's metadata). "
        "Every number and figure below comes from this run."
    )


def stamp(nb, record: dict) -> None:
    """Store ``record`` in the metadata and (re)write the provenance note under
    the title."""
    import nbformat

    nb.metadata[METADATA_KEY] = record
    nb.cells = [c for c in nb.cells if PROVENANCE_TAG not in c.metadata.get("tags", [])]
    note = nbformat.v4.new_markdown_cell(
        "> " + summary(record), metadata={"tags": [PROVENANCE_TAG]}
    )
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)


# --- executing ------------------------------------------------------------------------


def run(
    path,
    profile: str | None = None,
    timeout: int | None = None,
    threads: int | None = None,
    at_once: int = 1,
) -> dict:
    """Execute the notebook at ``path`` in ``profile`` (default: ``profile.default()``)
    and store its outputs and provenance in place. ``threads`` caps the kernel's
    threads; ``at_once`` is recorded: how many labs ran at the same time.

    Refused with :class:`ProvenanceError`, before anything runs, while another process
    executes it or when it cannot be written. The file is replaced only by the whole
    executed notebook: after any failure it is exactly as it was.
    """
    from nbclient import NotebookClient

    from . import profile as profiles

    profile = profiles.validate(profile) if profile else profiles.default()
    path = Path(path)
    with exclusive(path), tempfile.TemporaryDirectory(prefix="labs-run-") as scratch:
        check_writable(path)
        nb = read(path)
        for key in list(
            nb.metadata
        ):  # a fresh run owns its metadata (no stale widgets)
            if key not in ("kernelspec", "language_info"):
                del nb.metadata[key]
        sync_colab_cell(nb)
        log = Path(scratch) / "data-files.txt"
        log.touch()
        env = kernel_env(profile, log, threads)
        helpers = helpers_hash()
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            # TensorFlow prints C++ start-up logs straight to file descriptor 2; keep
            # them out of the page.
            extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        )
        start = time.perf_counter()
        client.execute(env=env)
        seconds = time.perf_counter() - start
        files = data_files(log, env)
        record = describe(nb, profile, seconds, helpers, files, threads, at_once)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = coalesce_streams(cell.outputs)
        stamp(nb, record)
        write(nb, path)
    return record


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stream outputs and apply carriage returns, as a live notebook
    shows them.

    A progress bar redraws its line with ``\\r``; stored raw, every redraw would become
    a line of the page. Kept: the final state of each line, exactly what the reader saw
    at the end.
    """
    merged = []
    for output in outputs:
        if (
            output.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].name == output.name
        ):
            merged[-1].text += output.text
        else:
            merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream" and "\r" in output.text:
            lines = output.text.replace("\r\n", "\n").split("\n")
            output.text = "\n".join(
                line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines
            )
    return merged


@dataclass
class Outcome:
    """What became of one lab of a batch: ``result`` is ``ok``, ``failed: ...``
    (executed and broke; the file is unchanged) or ``skipped: ...`` (not executed)."""

    lab: Path
    profile: str
    seconds: float | None
    result: str
    record: dict | None = None

    @property
    def status(self) -> str:
        return self.result.split(":")[0]


def execute(path, profile: str, timeout=None, threads=None, at_once=1) -> Outcome:
    """:func:`run` one lab and say what became of it; only an interrupt escapes."""
    start, record, seconds = time.perf_counter(), None, None
    try:
        record = run(path, profile, timeout, threads, at_once)
        result, seconds = "ok", record["wall_time_s"]
    except ProvenanceError as e:  # refused before executing
        result = f"skipped: {e}"
    except Exception as e:  # whatever broke this lab, the next ones still run
        result, seconds = f"failed: {_reason(e)}", time.perf_counter() - start
    return Outcome(Path(path), profile, seconds, result, record)


def _said(o: Outcome, name: str = "") -> None:
    took = f" ({_duration(o.seconds)})" if o.seconds is not None else ""
    print(f"  {name}{o.result.splitlines()[0]}{took}", flush=True)


def run_all(
    paths, profile: str, timeout: int | None = None, jobs: int = 1
) -> list[Outcome]:
    """Execute ``paths``, one after another or ``jobs`` at a time; a lab that fails
    does not stop the others."""
    if jobs > 1 and len(paths) > 1:
        return _run_at_once(paths, profile, timeout, jobs)
    outcomes = []
    for i, path in enumerate(paths):
        print(f"[{i + 1}/{len(paths)}] {path}: executing ({profile})", flush=True)
        try:
            outcomes.append(execute(path, profile, timeout))
        except KeyboardInterrupt:
            rest = [
                Outcome(p, profile, None, "skipped: interrupted") for p in paths[i:]
            ]
            return outcomes + rest
        _said(outcomes[-1])
    return outcomes


def expected_seconds(path, profile: str) -> float:
    """The wall time of the lab's last run in ``profile`` (infinite if unknown)."""
    try:
        record = read(path).metadata.get(METADATA_KEY) or {}
    except ProvenanceError:
        return float("inf")
    same = record.get("profile") == profile and record.get("wall_time_s")
    return float(record["wall_time_s"]) if same else float("inf")


def longest_first(paths, profile: str) -> list[Path]:
    """``paths`` ordered by their last wall time in ``profile``, longest (or unknown)
    first: the order that leaves the shortest tail when labs run several at a time."""
    return sorted(paths, key=lambda p: -expected_seconds(p, profile))


def _run_at_once(paths, profile: str, timeout, jobs: int) -> list[Outcome]:
    """:func:`run_all` with ``jobs`` worker processes, longest lab first, each kernel
    capped at :func:`threads_per_lab` threads."""
    import concurrent.futures as futures
    import multiprocessing

    threads = threads_per_lab(jobs)
    order = longest_first(paths, profile)
    print(
        f"{len(paths)} labs ({profile}), {jobs} at a time, {threads} thread"
        f"{'s' * (threads != 1)} each, longest first: "
        + ", ".join(p.name for p in order),
        flush=True,
    )
    done: dict[Path, Outcome] = {}
    context = multiprocessing.get_context("spawn")
    pool = futures.ProcessPoolExecutor(jobs, mp_context=context)
    try:
        submitted = {
            pool.submit(execute, p, profile, timeout, threads, jobs): p for p in order
        }
        for future in futures.as_completed(submitted):
            path = submitted[future]
            try:
                done[path] = future.result()
            except Exception as e:  # the worker itself died
                done[path] = Outcome(path, profile, None, f"failed: {_reason(e)}")
            _said(done[path], f"[{len(done)}/{len(paths)}] {path}: ")
    except KeyboardInterrupt:
        pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    interrupted = "skipped: interrupted"
    return [done.get(p) or Outcome(p, profile, None, interrupted) for p in paths]


def _reason(error: BaseException) -> str:
    """``Name: first line of the message`` (for a failing cell, the
    cell's exception)."""
    name = getattr(error, "ename", None) or type(error).__name__
    text = str(getattr(error, "evalue", error)).strip()
    return f"{name}: {text.splitlines()[0]}" if text else name


def table(outcomes: list[Outcome]) -> str:
    """The batch as a table (lab, profile, device, wall time, result), then which labs
    failed, were executed and were skipped."""
    rows = [("lab", "profile", "device", "wall time", "result")] + [
        (
            str(o.lab),
            o.profile,
            o.record["device"] if o.record else device_name(),
            "-" if o.seconds is None else _duration(o.seconds),
            o.result.splitlines()[0],
        )
        for o in outcomes
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4] for r in rows
    ]
    for status, label in (
        ("failed", "Failed (left as they were)"),
        ("ok", "Executed and stamped"),
        ("skipped", "Skipped (not executed)"),
    ):
        names = [o.lab.name for o in outcomes if o.status == status]
        if names or status == "ok":
            lines.append(f"{label}: {', '.join(names) or 'none'}.")
    return "\n".join(lines)


# --- checking stored outputs ----------------------------------------------------------


def problems(path) -> list[str]:
    """Why the stored outputs of the notebook at ``path`` cannot be trusted (empty if
    they can)."""
    nb = read(path)
    found = []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = sum(1 for c in code if c.get("execution_count") is None)
    if unexecuted:
        found.append(f"{unexecuted} of {len(code)} code cells were never executed")
    errors = [
        o.get("ename", "?")
        for c in code
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        found.append(f"stored outputs contain errors: {', '.join(errors)}")
    record = nb.metadata.get(METADATA_KEY)
    if not record:
        found.append(
            "no provenance in the metadata "
            "(execute it with `python -m helpers.provenance run`)"
        )
    elif record.get("code_sha256") != code_hash(nb):
        found.append(
            "stale outputs: the code cells changed since the notebook was executed"
        )
    if not code or code[0].source != colab_cell_source():
        found.append(
            "the first code cell is not the Colab cell of _config.yml's repository "
            "(run `python -m helpers.provenance sync-colab`)"
        )
    return found


def notes(path) -> list[str]:
    """What is worth knowing about the stored outputs without making them untrustworthy:
    the helpers changed since they were made, or their stamp predates helpers hashes."""
    record = read(path).metadata.get(METADATA_KEY)
    if not record:
        return []  # a problem, reported by problems()
    stamped, now = record.get("helpers_sha256"), helpers_hash()
    if not stamped:
        return ["the stamp has no helpers hash (executed before helpers were stamped)"]
    if stamped != now:
        return [
            f"the helpers changed since it was executed (stamped `{stamped[:12]}`, "
            f"now `{now[:12]}`): re-executing it may change its numbers"
        ]
    return []


# --- the reproduction summary ------------------------------------------------------

SUMMARY_PAGE = ROOT / "book" / "reproduction_summary.md"


def stored_tables(nb) -> list[dict]:
    """The reported-vs-ours tables a run stored in its outputs (see ``findings``)."""
    from . import findings

    return [
        output["metadata"][findings.METADATA_KEY]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if findings.METADATA_KEY in output.get("metadata", {})
    ]


def page_title(nb) -> str:
    """The notebook's first ``# `` heading (its title in the book)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].split(":")[0].strip()
    return "untitled"


def summary_page() -> str:
    """The reproduction summary page, from every lab's stored tables (in the
    TOC's order)."""
    import yaml

    from . import findings

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    order = [
        ch["file"].removeprefix("labs/")
        for part in toc["parts"]
        for ch in part["chapters"]
        if ch["file"].startswith("labs/")
    ]
    labs = []
    for name in order:
        nb = read(LABS / f"{name}.ipynb")
        labs.append(
            {
                "name": name,
                "title": page_title(nb),
                "record": nb.metadata.get(METADATA_KEY),
                "tables": stored_tables(nb),
            }
        )
    return findings.summary_page(labs)


# --- the command line -----------------------------------------------------------------


def _profile_arg(name: str) -> str:
    from . import profile as profiles

    try:
        return profiles.validate(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _jobs_arg(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, 1 or more")
    return int(text)


def _run_command(args) -> int:
    from . import profile as profiles

    paths = notebook_paths(args.notebooks)
    profile = args.profile or profiles.default()
    outcomes = run_all(paths, profile, args.timeout, jobs=args.jobs)
    print(table(outcomes))
    if args.profile_time:
        for o in outcomes:
            if o.record:
                print(f"Where the time went in {o.lab}:")
                print(format_time_split(o.record["time_split_s"], o.seconds))
    return 0 if all(o.status == "ok" for o in outcomes) else 1


def _check_command(args) -> int:
    bad = 0
    for path in notebook_paths(args.notebooks) if args.notebooks else lab_paths():
        for problem in problems(path):
            print(f"{path}: {problem}")
            bad += 1
        for note in notes(path):
            print(f"{path}: note: {note}")
        if args.times:
            nb = read(path)
            record = nb.metadata.get(METADATA_KEY) or {}
            split = record.get("time_split_s") or time_split(nb)
            print(f"Where the time went in {path}:")
            print(format_time_split(split, record.get("wall_time_s")))
    return 1 if bad else 0


def _sync_colab_command(args) -> int:
    colab_cell_source()  # a missing repository is reported before any notebook is read
    for path in notebook_paths(args.notebooks) if args.notebooks else lab_paths():
        nb = read(path)
        if sync_colab_cell(nb):
            write(nb, path)
            print(f"{path}: Colab cell updated (re-execute it: its code hash changed)")
    return 0


def _summary_command(args) -> int:
    with atomic_write(SUMMARY_PAGE, suffix=".tmp") as out:
        out.write(summary_page().encode())
    print(f"wrote {SUMMARY_PAGE.relative_to(ROOT)}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.provenance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="execute labs in a profile and stamp provenance")
    run_p.add_argument("notebooks", nargs="+", help="notebooks or folders of notebooks")
    run_p.add_argument(
        "--profile",
        type=_profile_arg,
        default=None,
        help="smoke, cpu or full (default: full with a GPU, else cpu)",
    )
    run_p.add_argument(
        "--timeout", type=int, default=None, help="seconds per cell (default: none)"
    )
    run_p.add_argument(
        "--jobs",
        type=_jobs_arg,
        default=1,
        help="labs executed at once, the cores shared out between them (default 1)",
    )
    run_p.add_argument(
        "--profile-time",
        action="store_true",
        help="print where the time went: seconds per phase and `## ` section",
    )
    check_p = sub.add_parser(
        "check", help="report labs with unexecuted, unstamped or stale outputs"
    )
    check_p.add_argument("notebooks", nargs="*", help="default: every lab")
    check_p.add_argument(
        "--times", action="store_true", help="print where each lab's time went"
    )
    sync_p = sub.add_parser("sync-colab", help="rewrite each lab's Colab cell")
    sync_p.add_argument("notebooks", nargs="*", help="default: every lab")
    sub.add_parser(
        "summary", help="write book/reproduction_summary.md from the labs' tables"
    )
    args = parser.parse_args(argv)
    command = {
        "run": _run_command,
        "check": _check_command,
        "sync-colab": _sync_colab_command,
        "summary": _summary_command,
    }[args.command]
    try:
        return command(args)
    except ProvenanceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
