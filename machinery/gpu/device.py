"""There, on the GPU machine: install the bundle's wheels, check its data, execute its
labs in parallel before a deadline, and pack what finished into ``$OUT``.

The standard library only at import time (``gpu check`` imports ``packaging``, which
the machine has), so that it runs before the wheels are installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from ..environment import THREAD_VARS, threads_per_lab
from ..processes import stop_trees
from . import (
    LOG_TAIL,
    MANIFEST,
    OUT_MAX_FILES,
    OUT_MAX_TOTAL,
    PART,
    STATUSES,
    SUMMARY,
    file_sha256,
)


def log(message: str) -> None:
    print(f"[run-labs {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------


def kill_trees(procs: list[subprocess.Popen], grace: float = 2.0) -> list[list[int]]:
    """Stop labs, all at once: each runner, its process group and every process below it
    (the kernel runs in a session of its own); SIGTERM, then SIGKILL to what is left
    after ``grace`` seconds. Returns the pids signalled, per lab."""
    reap = lambda: [proc.poll() for proc in procs]
    return stop_trees([proc.pid for proc in procs], grace, reap)


def kill_tree(proc: subprocess.Popen, grace: float = 2.0) -> list[int]:
    """:func:`kill_trees` for one lab."""
    return kill_trees([proc], grace)[0]


# --- checks ---------------------------------------------------------------------------


def executed_as(path: Path, profile: str) -> str | None:
    """Why the notebook at ``path`` is not an executed, stamped copy (None if it is)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"unreadable: {e}"
    record = nb.get("metadata", {}).get("provenance")
    if not record:
        return "no provenance in its metadata"
    if record.get("profile") != profile:
        return f"stamped {record.get('profile')!r}, not {profile!r}"
    return None


def report_present_needs(folder: Path) -> int:
    """Print whether this machine's own packages meet what the wheels in ``folder``
    need (its ``present-needs.txt``); 1 if they do not."""
    import importlib.metadata

    from packaging.requirements import Requirement

    problems = []
    for line in (folder / "present-needs.txt").read_text().splitlines():
        req = Requirement(line)
        try:
            have = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{req.name}: missing")
            continue
        if not req.specifier.contains(have, prereleases=True):
            problems.append(f"{req.name} {have} does not meet {req.specifier}")
    print(
        "check:",
        "; ".join(problems) if problems else "the machine's packages meet every need",
    )
    return 1 if problems else 0


def check_command(args) -> int:
    """``gpu check``: do the machine's own packages meet the bundled wheels' needs?"""
    return report_present_needs(Path(args.dest))


def install_wheels(bundle: Path, site: Path, python: str) -> str | None:
    """Install the bundle's wheels into ``site``; the error, or None."""
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    if not wheels:
        return f"no wheels in {bundle / 'wheels'}"
    cmd = [python, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    cmd += ["--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site)]
    done = subprocess.run(
        cmd + [str(w) for w in wheels], capture_output=True, text=True
    )
    if done.returncode:
        return f"pip install failed ({done.returncode}): {done.stderr[-2000:]}"
    log(f"installed {len(wheels)} wheels into {site}")
    if (bundle / "wheels" / "present-needs.txt").is_file():
        try:
            report_present_needs(bundle / "wheels")  # a warning only
        except ImportError:  # no packaging here: nothing to check with
            pass
    return None


def check_sums(folder: Path) -> str | None:
    """Why the files of ``folder`` do not match its SHA256SUMS (None if they do)."""
    listing = folder / "SHA256SUMS"
    if not listing.is_file():
        return f"no {listing}"
    bad = []
    for line in listing.read_text().splitlines():
        if not line.strip():
            continue
        digest, rel = line.split(maxsplit=1)
        path = folder / rel.lstrip("*")
        if not path.is_file() or file_sha256(path) != digest:
            bad.append(rel)
    return f"data do not match SHA256SUMS: {', '.join(bad)}" if bad else None


# --- packing what comes back ----------------------------------------------------------


def tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def log_tail(path: Path) -> bytes:
    if not path.is_file():
        return b""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size <= LOG_TAIL:
            return f.read()
        f.seek(size - LOG_TAIL)
        return f"[... first {size - LOG_TAIL} bytes left out ...]\n".encode() + f.read()


def _fitting_archive(labs: list[dict], repo: Path, room: int) -> tuple[bytes, dict]:
    """The notebooks of the finished labs as one .tar.gz within ``room`` bytes and the
    files that may come back, the biggest left out until it fits; each finished lab
    marked ``returned``."""
    finished = [lab for lab in labs if lab["status"] == "finished"]
    notebooks = {lab["path"]: (repo / lab["path"]).read_bytes() for lab in finished}
    while True:
        blob = tar_bytes(sorted(notebooks.items())) if notebooks else b""
        n_parts = max(1, -(-len(blob) // PART))
        if not notebooks or (len(blob) <= room and n_parts <= OUT_MAX_FILES - 2):
            break
        biggest = max(notebooks, key=lambda k: len(notebooks[k]))
        log(f"{biggest} does not fit in what comes back; left out")
        del notebooks[biggest]
    for lab in finished:
        lab["returned"] = lab["path"] in notebooks
    return blob, notebooks


def pack(out: Path, labs: list[dict], repo: Path, logs: Path) -> dict:
    """Write the logs and the notebooks of the finished labs into ``out``: logs.tar.gz
    and notebooks.tar.gz (split into .partNN files of PART bytes when larger), within
    the device tool's limits; a notebook that does not fit is marked returned: false."""
    log_tar = tar_bytes(
        [
            (f"logs/{lab['name']}.log", log_tail(logs / f"{lab['name']}.log"))
            for lab in labs
        ]
    )
    (out / "logs.tar.gz").write_bytes(log_tar)
    room = OUT_MAX_TOTAL - len(log_tar) - 256 * 1024  # the summary
    blob, notebooks = _fitting_archive(labs, repo, room)
    if not notebooks:
        return {"files": [], "sha256": None, "bytes": 0}
    if len(blob) <= PART:
        files = ["notebooks.tar.gz"]
        (out / files[0]).write_bytes(blob)
    else:
        files = [f"notebooks.tar.gz.part{i:02d}" for i in range(-(-len(blob) // PART))]
        for i, name in enumerate(files):
            (out / name).write_bytes(blob[i * PART : (i + 1) * PART])
    return {
        "files": files,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
    }


# --- running the labs -----------------------------------------------------------------


def _read_manifest(bundle: Path, out: Path) -> dict | None:
    """The bundle's manifest; None (said, and written as the summary) if unreadable."""
    try:
        return json.loads((bundle / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        log(f"error: no readable {bundle / MANIFEST} ({e}); build it with `gpu bundle`")
        (out / SUMMARY).write_text(json.dumps({"error": str(e), "labs": []}) + "\n")
        return None


def _chosen_labs(manifest: dict, names) -> list[dict] | None:
    """The manifest's labs that ``names`` choose (all when none), each not started
    yet; None (said) when a name is not in the manifest."""
    chosen = set(names or [])
    known = {x["name"] for x in manifest["labs"]} | {
        x["path"] for x in manifest["labs"]
    }
    if chosen - known:
        log(f"error: not in the manifest: {', '.join(sorted(chosen - known))}")
        return None
    return [
        dict(lab, status="not-started", seconds=None, rc=None)
        for lab in manifest["labs"]
        if not chosen or lab["name"] in chosen or lab["path"] in chosen
    ]


def _prepare(args, bundle: Path, repo: Path) -> tuple[dict, str | None]:
    """This environment with the wheels installed and on the path (unless
    ``--no-install``), the data checked (unless ``--no-verify``); or the error that
    stops the run."""
    env = dict(os.environ)
    if args.margin_s >= args.deadline_s:
        return env, "--margin-s must be smaller than --deadline-s"
    if not args.no_install:
        site = Path(args.site)
        error = install_wheels(bundle, site, args.python or sys.executable)
        if error:
            return env, error
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), str(repo), env.get("PYTHONPATH", "")) if p
        )
    if not args.no_verify:
        error = check_sums(bundle / "data")
        if error:
            return env, error
        log("data match SHA256SUMS")
    return env, None


def lab_env(env: dict, bundle: Path, profile: str, at_once: int) -> dict:
    """The environment of each lab's runner: Keras on torch, the bundle's data,
    offline, its share of the cores (unless set already)."""
    env = dict(env)
    env.update(
        KERAS_BACKEND="torch",
        LABS_DATA_DIR=str(bundle / "data"),
        LABS_OFFLINE="1",
        LABS_PROFILE=profile,
        PYTHONUNBUFFERED="1",
    )
    # the kernel sets the inline backend only where none is given: figures must reach
    # the page
    env.pop("MPLBACKEND", None)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # keras imports jax
    for var in THREAD_VARS:
        env.setdefault(var, str(threads_per_lab(at_once)))
    return env


def _start(lab: dict, command: list[str], repo: Path, env: dict, logs: Path):
    """Start one lab's runner, its output into its log; (process, start, lab)."""
    with open(logs / f"{lab['name']}.log", "wb") as logfile:
        proc = subprocess.Popen(
            command,
            cwd=repo,
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    lab["status"] = "running"
    log(f"{lab['name']}: started (pid {proc.pid})")
    return proc, time.monotonic(), lab


def _ended(lab: dict, rc: int, started: float, notebook: Path, profile: str) -> None:
    """Record how a lab's runner ended: finished only with its notebook stamped."""
    lab["rc"], lab["seconds"] = rc, round(time.monotonic() - started, 1)
    why = f"exit status {rc}" if rc else executed_as(notebook, profile)
    lab["status"] = "failed" if why else "finished"
    if why:
        lab["why"] = why
    log(
        f"{lab['name']}: {lab['status']} in {lab['seconds']} s"
        + (f" ({why})" if why else "")
    )


def _execute(labs, workers: int, stop_at: float, poll_s: float, start, ended):
    """Run ``labs``, ``workers`` at a time (``start(lab)``, ``ended(lab, rc,
    started)``), until all ended or ``stop_at``; return those still running."""
    queue, running = list(labs), {}
    while queue or running:
        for name, (proc, started, lab) in list(running.items()):
            rc = proc.poll()
            if rc is not None:
                del running[name]
                ended(lab, rc, started)
        if time.monotonic() >= stop_at:
            break
        while queue and len(running) < workers:
            lab = queue.pop(0)
            running[lab["name"]] = start(lab)
        if running:
            time.sleep(poll_s)
    return list(running.values())


def _cut(still_running) -> None:
    """Stop the labs still running at the deadline, each marked cut."""
    trees = kill_trees([proc for proc, _, _ in still_running])
    for (_, started, lab), pids in zip(still_running, trees):
        lab["killed_pids"] = pids
        lab["status"], lab["seconds"] = "cut", round(time.monotonic() - started, 1)
        lab["why"] = "still running at the deadline; stopped, its notebook not packed"
        log(f"{lab['name']}: cut after {lab['seconds']} s")


def _report(labs: list[dict], summary: dict, out: Path) -> int:
    """Say what became of each lab; 0 only if every lab finished."""
    counts = {s: sum(lab["status"] == s for lab in labs) for s in STATUSES}
    log(
        ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + f"; packed {len(summary['notebooks']['files'])} file(s) into {out} "
        f"in {summary['elapsed_s']} s"
    )
    for lab in labs:
        print(f"  {lab['name']:28s} {lab['status']:12s} {lab['seconds'] or '':>8} s")
    return 0 if counts["finished"] == len(labs) else 1


def run_labs_command(args) -> int:
    """``gpu run-labs``: install, check, execute the labs in parallel before the
    deadline, pack; 0 if every lab finished, 2 if none could start."""
    t0 = time.monotonic()
    stop_at = t0 + args.deadline_s - args.margin_s
    bundle, repo = Path(args.bundle).resolve(), Path(args.repo).resolve()
    out = Path(args.out or os.environ.get("OUT") or bundle / "out").resolve()
    logs = Path(args.logs or bundle / "logs")
    for folder in (out, logs):
        folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(bundle, out)
    labs = _chosen_labs(manifest, args.labs) if manifest else None
    if labs is None:
        return 2
    profile = args.profile or manifest["profile"]
    workers = max(1, args.workers or manifest.get("workers") or 4)
    summary = {"profile": profile, "deadline_s": args.deadline_s}
    summary |= {"margin_s": args.margin_s, "workers": workers, "labs": labs}
    summary["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def write_summary():
        summary["elapsed_s"] = round(time.monotonic() - t0, 1)
        (out / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")

    env, summary["error"] = _prepare(args, bundle, repo)
    if summary["error"]:
        log(f"error: {summary['error']}")
        pack(out, labs, repo, logs)
        write_summary()
        return 2
    env = lab_env(env, bundle, profile, min(workers, len(labs) or 1))
    log(
        f"{len(labs)} labs, {workers} at a time, profile {profile}, stop at "
        f"{args.deadline_s - args.margin_s:.0f} s of {args.deadline_s} s"
    )
    runner = [args.python or sys.executable, "-m", "machinery", "run"]

    def start(lab):
        return _start(
            lab, runner + [lab["path"], "--profile", profile], repo, env, logs
        )

    def ended(lab, rc, started):
        _ended(lab, rc, started, repo / lab["path"], profile)
        write_summary()

    _cut(_execute(labs, workers, stop_at, args.poll_s, start, ended))
    summary["notebooks"] = pack(out, labs, repo, logs)
    write_summary()
    return _report(labs, summary, out)
