"""Execute labs in place, one after another or several at once, and stamp them.

:func:`run` executes one notebook in a profile and stores its outputs and provenance
stamp in the file; :func:`run_all` executes a batch (with ``jobs`` > 1, that many at
once, longest first, the cores shared out) and :func:`table` says what became of each.
A lab that fails is left exactly as it was and the others still run.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import MachineryError
from .colab import sync_colab_cell
from .environment import data_files, device_name, kernel_env, threads_per_lab
from .notebooks import (
    check_writable,
    exclusive,
    notebook_paths,
    read,
    stored_stamp,
    write,
)
from .stamp import describe, helpers_hash, stamp
from .timing import duration, format_time_split


def run(
    path, profile: str | None = None, timeout: int | None = None, at_once: int = 1
) -> dict:
    """Execute the notebook at ``path`` in ``profile`` (default: ``profile.default()``)
    and store its outputs and provenance in place; return the stamp. With ``at_once``
    labs running at the same time, the kernel's threads are capped at its share of the
    cores (:func:`~machinery.environment.threads_per_lab`), and both are stamped.

    Refused with :class:`MachineryError`, before anything runs, while another process
    executes it or when it cannot be written. The file is replaced only by the whole
    executed notebook: after any failure it is exactly as it was.
    """
    from helpers import profile as profiles

    profile = profiles.validate(profile) if profile else profiles.default()
    threads = threads_per_lab(at_once) if at_once > 1 else None
    path = Path(path)
    with exclusive(path), tempfile.TemporaryDirectory(prefix="labs-run-") as scratch:
        check_writable(path)
        nb = read(path)
        for key in list(nb.metadata):  # a fresh run owns its metadata (no widgets)
            if key not in ("kernelspec", "language_info"):
                del nb.metadata[key]
        sync_colab_cell(nb)
        log = Path(scratch) / "data-files.txt"
        log.touch()
        env = kernel_env(profile, log, threads)
        helpers = helpers_hash()
        start = time.perf_counter()
        _client(nb, path, timeout).execute(env=env)
        seconds = time.perf_counter() - start
        files = data_files(log, env)
        record = describe(nb, profile, seconds, helpers, files, threads, at_once)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = coalesce_streams(cell.outputs)
        stamp(nb, record)
        write(nb, path)
    return record


def _client(nb, path: Path, timeout: int | None):
    """The nbclient that executes ``nb`` with the notebook's folder as the kernel's
    working directory."""
    from nbclient import NotebookClient

    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        # TensorFlow prints C++ start-up logs straight to file descriptor 2; keep
        # them out of the page.
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )


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


INTERRUPTED = "skipped: interrupted"


def execute(path, profile: str, timeout=None, at_once: int = 1) -> Outcome:
    """:func:`run` one lab and say what became of it; only an interrupt escapes."""
    start, record, seconds = time.perf_counter(), None, None
    try:
        record = run(path, profile, timeout, at_once)
        result, seconds = "ok", record["wall_time_s"]
    except MachineryError as e:  # refused before executing
        result = f"skipped: {e}"
    except Exception as e:  # whatever broke this lab, the next ones still run
        result, seconds = f"failed: {_reason(e)}", time.perf_counter() - start
    return Outcome(Path(path), profile, seconds, result, record)


def _said(o: Outcome, name: str = "") -> None:
    took = f" ({duration(o.seconds)})" if o.seconds is not None else ""
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
            rest = [Outcome(p, profile, None, INTERRUPTED) for p in paths[i:]]
            return outcomes + rest
        _said(outcomes[-1])
    return outcomes


def expected_seconds(path, profile: str) -> float:
    """The wall time of the lab's last run in ``profile`` (infinite if unknown)."""
    record = stored_stamp(path) or {}
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
        submitted = {pool.submit(execute, p, profile, timeout, jobs): p for p in order}
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
    return [done.get(p) or Outcome(p, profile, None, INTERRUPTED) for p in paths]


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
            "-" if o.seconds is None else duration(o.seconds),
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


def run_command(args) -> int:
    """``run``: execute the notebooks, print the table (and, asked, where the time
    went); 1 unless every lab was executed."""
    from helpers import profile as profiles

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
