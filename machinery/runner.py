"""Execute labs in place, one after another or several at once, and stamp them.

:func:`run` executes one notebook in a profile and stores its outputs and provenance
stamp in the file; :func:`run_all` executes a batch (with ``jobs`` > 1, that many at
once, longest first, the cores shared out) and :func:`table` says what became of each.
A lab that fails is left exactly as it was and the others still run; a lab edited
while it ran is left as it is, the executed copy saved beside it. SIGINT (Ctrl-C) or
SIGTERM stops a batch: the kernels (and workers) running are stopped, and the table
says which labs were executed and stamped, interrupted (left as they were) or never
started.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import MachineryError
from .colab import sync_colab_cell
from .environment import (
    data_files,
    device_name,
    fonts_used,
    kernel_env,
    missing_fonts,
    threads_per_lab,
)
from .notebooks import (
    beside,
    check_writable,
    exclusive,
    fingerprint,
    notebook_paths,
    read,
    stored_stamp,
    write,
)
from .processes import descendants, stop_signals, stop_trees
from .stamp import describe, helpers_hash, stamp
from .timing import duration, format_time_split
from .workers import Interrupted, WorkerDied, run_in_workers


class EditedMeanwhile(Exception):
    """The notebook changed on disk while it was executed; the executed copy was
    saved beside it and the notebook left as it is."""


def requested_profile(given: str | None) -> str:
    """The profile to run in: ``given`` (``--profile``), else an exported
    ``LABS_PROFILE``, else ``profile.default()``; a :class:`MachineryError` when
    ``LABS_PROFILE`` is no profile or names another one than ``given``."""
    from helpers import profile as profiles

    given = profiles.validate(given) if given else None
    exported = os.environ.get(profiles.ENV_VAR, "").strip()
    if not exported:
        return given or profiles.default()
    try:
        exported = profiles.validate(exported)
    except ValueError:
        raise MachineryError(
            f"{profiles.ENV_VAR}={exported!r} is not a profile; export one of "
            f"{', '.join(profiles.PROFILES)}, or unset it"
        ) from None
    if given and given != exported:
        raise MachineryError(
            f"--profile {given} and {profiles.ENV_VAR}={exported} disagree: drop "
            f"one of them (or `unset {profiles.ENV_VAR}`)"
        )
    return exported


def run(
    path, profile: str | None = None, timeout: int | None = None, at_once: int = 1
) -> dict:
    """Execute the notebook at ``path`` in ``profile`` (default: as
    :func:`requested_profile` says) and store its outputs and provenance in place;
    return the stamp. With ``at_once``
    labs running at the same time, the kernel's threads are capped at its share of the
    cores (:func:`~machinery.environment.threads_per_lab`), and both are stamped.

    Refused with :class:`MachineryError`, before anything runs, while another process
    executes it, when it cannot be written, or when it renders letters outside smoke
    without a handwriting font (:func:`~machinery.environment.missing_fonts`). The
    file is replaced only by the whole executed notebook: after any failure it is
    exactly as it was; if it was edited meanwhile, it is left as it is
    (:class:`EditedMeanwhile`).
    """
    profile = requested_profile(profile)
    threads = threads_per_lab(at_once) if at_once > 1 else None
    path = Path(path)
    with exclusive(path), tempfile.TemporaryDirectory(prefix="labs-run-") as scratch:
        check_writable(path)
        started_as = fingerprint(path)
        nb = read(path)
        if refusal := missing_fonts(nb, profile):
            raise MachineryError(refusal)
        for key in list(nb.metadata):  # a fresh run owns its metadata (no widgets)
            if key not in ("kernelspec", "language_info"):
                del nb.metadata[key]
        sync_colab_cell(nb)
        log, fonts_log = Path(scratch) / "data-files.txt", Path(scratch) / "fonts.txt"
        log.touch()
        fonts_log.touch()
        env = kernel_env(profile, log, threads, fonts_log)
        helpers = helpers_hash()
        start = time.perf_counter()
        execute_apart(_client(nb, path, timeout), env)
        seconds = time.perf_counter() - start
        files = data_files(log, env)
        fonts = fonts_used(fonts_log)
        record = describe(nb, profile, seconds, helpers, files, threads, at_once, fonts)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = coalesce_streams(cell.outputs)
        stamp(nb, record)
        _store(nb, path, started_as)
    return record


def _store(nb, path: Path, started_as: str | None) -> None:
    """Write the executed ``nb`` over ``path`` unless the file changed since it was
    read (``started_as``): then beside it, and :class:`EditedMeanwhile`."""
    if fingerprint(path) == started_as:
        write(nb, path)
        return
    copy = beside(path, "executed")
    write(nb, copy)
    raise EditedMeanwhile(
        f"{path} was edited while it was executed, so it was left as it is; the "
        f"executed notebook is {copy}: keep one of the two (and run it again)"
    )


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


def execute_apart(client, env: dict) -> None:
    """``client.execute(env=env)`` in a thread of its own, so that the interrupts stay
    the caller's (nbclient takes SIGINT and SIGTERM over when it runs in the main
    thread, and turns them into an ``AssertionError``). On an interrupt, the kernel
    (every process started meanwhile below this one) is stopped and the interrupt
    raised; the notebook is then not written."""
    errors: list[BaseException] = []

    def execute():
        try:
            client.execute(env=env)
        except BaseException as e:  # given to the caller's thread
            errors.append(e)

    others = set(descendants(os.getpid()))
    thread = threading.Thread(target=execute, name="nbclient", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        stop_trees([p for p in descendants(os.getpid()) if p not in others], 1.0)
        thread.join(5)
        raise
    if errors:
        raise errors[0]


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
    (executed and broke; the file is unchanged), ``changed: ...`` (edited while it
    ran; left as it is, the executed copy beside it), ``skipped: ...`` (refused before
    executing), ``interrupted: ...`` (stopped by ``signal``; left as it was) or ``not
    started: ...``."""

    lab: Path
    profile: str
    seconds: float | None
    result: str
    record: dict | None = None
    signal: int | None = None

    @property
    def status(self) -> str:
        return self.result.split(":")[0]


def execute(path, profile: str, timeout=None, at_once: int = 1) -> Outcome:
    """:func:`run` one lab and say what became of it; only an interrupt escapes."""
    start, record, seconds = time.perf_counter(), None, None
    try:
        record = run(path, profile, timeout, at_once)
        result, seconds = "ok", record["wall_time_s"]
    except MachineryError as e:  # refused before executing
        result = f"skipped: {e}"
    except EditedMeanwhile as e:
        result, seconds = f"changed: {e}", time.perf_counter() - start
    except Exception as e:  # whatever broke this lab, the next ones still run
        reason = _reason(e, path, profile)
        result, seconds = f"failed: {reason}", time.perf_counter() - start
    return Outcome(Path(path), profile, seconds, result, record)


def _after_stop(path, profile: str, before: dict | None, signum: int) -> Outcome:
    """What became of a lab that was executing when the batch was stopped: executed
    and stamped if it carries a new stamp (written just before), else interrupted and
    left as it was."""
    record = stored_stamp(path)
    if record and record != before:
        return Outcome(Path(path), profile, record.get("wall_time_s"), "ok", record)
    name = signal.Signals(signum).name
    return Outcome(
        Path(path),
        profile,
        None,
        f"interrupted: by {name}; left as it was",
        None,
        signum,
    )


def _not_started(path, profile: str, signum: int) -> Outcome:
    name = signal.Signals(signum).name
    return Outcome(
        Path(path), profile, None, f"not started: stopped by {name}", None, signum
    )


def _said(o: Outcome, name: str = "") -> None:
    took = f" ({duration(o.seconds)})" if o.seconds is not None else ""
    print(f"  {name}{o.result.splitlines()[0]}{took}", flush=True)


def run_all(
    paths, profile: str, timeout: int | None = None, jobs: int = 1
) -> list[Outcome]:
    """Execute ``paths``, one after another or ``jobs`` at a time; a lab that fails
    does not stop the others, a SIGINT or SIGTERM stops them all."""
    with stop_signals() as received:
        if jobs > 1 and len(paths) > 1:
            return _run_at_once(paths, profile, timeout, jobs)
        return _run_in_turn(paths, profile, timeout, received)


def _run_in_turn(paths, profile: str, timeout, received: list[int]) -> list[Outcome]:
    """:func:`run_all` in this process, one lab after another; ``received``: the stop
    signals that came (:func:`~machinery.processes.stop_signals`)."""
    outcomes, before = [], [stored_stamp(path) for path in paths]
    for i, path in enumerate(paths):
        try:
            print(f"[{i + 1}/{len(paths)}] {path}: executing ({profile})", flush=True)
            outcome = execute(path, profile, timeout)
        except KeyboardInterrupt as e:
            received.append(getattr(e, "signum", signal.SIGINT))
            outcome = None
        if received and (outcome is None or outcome.status == "failed"):
            outcome = _after_stop(path, profile, before[i], received[0])
        outcomes.append(outcome)
        _said(outcome)
        if received:
            rest = [_not_started(p, profile, received[0]) for p in paths[i + 1 :]]
            return outcomes + rest
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
    threads = threads_per_lab(jobs)
    order = longest_first(paths, profile)
    print(
        f"{len(paths)} labs ({profile}), {jobs} at a time, {threads} thread"
        f"{'s' * (threads != 1)} each, longest first: "
        + ", ".join(p.name for p in order),
        flush=True,
    )
    before = {path: stored_stamp(path) for path in paths}
    done: dict[Path, Outcome] = {}

    def on_result(task, result):
        path = task[0]
        if isinstance(result, WorkerDied):
            result = Outcome(
                path, profile, None, f"failed: {_died(result, path, profile)}"
            )
        done[path] = result
        _said(result, f"[{len(done)}/{len(paths)}] {path}: ")

    tasks = [(path, profile, timeout, jobs) for path in order]
    try:
        run_in_workers(execute, tasks, jobs, on_result)
    except Interrupted as stop:
        for path, *_ in stop.running:
            done[path] = _after_stop(path, profile, before[path], stop.signum)
            _said(done[path], f"{path}: ")
        for path, *_ in stop.waiting:
            done[path] = _not_started(path, profile, stop.signum)
    return [done[p] for p in paths]


MEMORY_ERRORS = ("MemoryError", "OutOfMemoryError")  # Python's; torch.cuda's


def _reason(error: BaseException, lab=None, profile: str | None = None) -> str:
    """``Name: first line of the message`` (for a failing cell, the cell's
    exception); for memory run out, which lab in which profile, and what to try."""
    name = getattr(error, "ename", None) or type(error).__name__
    text = str(getattr(error, "evalue", error)).strip()
    if name in MEMORY_ERRORS:
        return f"{name}: {lab} ran out of memory in the {profile} profile; " + (
            _memory_advice(profile)
        )
    if name == "DeadKernelError":
        return (
            f"{name}: the kernel of {lab} died ({profile} profile), most often from "
            f"running out of memory; {_memory_advice(profile)}"
        )
    return f"{name}: {text.splitlines()[0]}" if text else name


def _memory_advice(profile: str | None) -> str:
    from helpers.profile import PROFILES

    smaller = PROFILES[: PROFILES.index(profile)] if profile in PROFILES else ()
    fewer = "fewer labs at once (--jobs 1)"
    return f"try --profile {smaller[-1]} or {fewer}" if smaller else f"try {fewer}"


def _died(died: WorkerDied, lab, profile: str) -> str:
    """Why a lab's worker process ended without an answer; a SIGKILL is most often
    the system's out-of-memory killer."""
    if died.exitcode == -signal.SIGKILL:
        return (
            f"{died}, most often for running out of memory; {_memory_advice(profile)}"
        )
    return str(died)


def table(outcomes: list[Outcome]) -> str:
    """The batch as a table (lab, profile, device, wall time, result), then which labs
    failed, were executed, interrupted, not started and skipped."""
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
        ("changed", "Edited while executing (left as they are, executed copy beside)"),
        ("ok", "Executed and stamped"),
        ("interrupted", "Interrupted (left as they were)"),
        ("not started", "Not started"),
        ("skipped", "Skipped (not executed)"),
    ):
        names = [o.lab.name for o in outcomes if o.status == status]
        if names or status == "ok":
            lines.append(f"{label}: {', '.join(names) or 'none'}.")
    return "\n".join(lines)


def run_command(args) -> int:
    """``run``: execute the notebooks, print the table (and, asked, where the time
    went); 1 unless every lab was executed, 128 + the signal if one stopped it (130
    for Ctrl-C)."""
    profile = requested_profile(args.profile)
    paths = notebook_paths(args.notebooks)
    outcomes = run_all(paths, profile, args.timeout, jobs=args.jobs)
    print(table(outcomes))
    if args.profile_time:
        for o in outcomes:
            if o.record:
                print(f"Where the time went in {o.lab}:")
                print(format_time_split(o.record["time_split_s"], o.seconds))
    stops = [o.signal for o in outcomes if o.signal]
    if stops:
        return 128 + stops[0]
    return 0 if all(o.status == "ok" for o in outcomes) else 1
