"""The machinery's runner as a tool: batches, locks, safe writes, time split, data
files, clear errors. Tiny notebooks in tmp_path; the kernels started here cost ~2 s
each."""

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.data import sources
from machinery import (
    MachineryError,
    check,
    colab,
    environment,
    notebooks,
    runner,
    stamp,
    timing,
)
from machinery.__main__ import main

pytestmark = pytest.mark.slow  # real kernels: `pytest -m 'not slow'` skips

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
READS_DATA = """\
import hashlib, os
from pathlib import Path
from helpers.data import sources as ds
toy = Path(os.environ["LABS_DATA_DIR"]) / "toy" / "numbers.csv"
for _ in range(2):  # read twice, listed once
    ds.verify(toy, {hashlib.sha256(toy.read_bytes()).hexdigest(): "test"}, "")
ds.fetch("mnist", sample=True)
print(os.environ["LABS_DATA_DIR"], os.environ["LABS_CACHE_DIR"])"""

RENDERS_LETTERS = (
    "from helpers import letters\nx = letters.render_letters(1, fonts='bundled')"
)


def _notebook(*cells):
    """A notebook titled like a lab; a string starting with ``## `` is a heading."""
    made = [
        new_markdown_cell(c) if c.startswith(("#", "##")) else new_code_cell(c)
        for c in ("# A tiny lab", *cells)
    ]
    return new_notebook(cells=made, metadata={"kernelspec": KERNELSPEC})


def _write(path, *cells):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_notebook(*cells), path)
    return path


def _leftovers(folder):
    """Files a run must not leave beside the labs (temporary files, locks)."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# --- a batch: [ok, failing, ok2], relative data and cache folders ---------------------


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """``run labs --profile SMOKE --profile-time`` started in a folder whose data and
    cache folders are given relative to it; the second lab fails."""
    root = tmp_path_factory.mktemp("book")
    (root / "data" / "toy").mkdir(parents=True)
    (root / "data" / "toy" / "numbers.csv").write_text("1,2,3\n")
    labs = root / "labs"
    _write(labs / "a_ok.ipynb", "## Setup", "x = 1", "## Data", READS_DATA,
           "## Train", "import time\ntime.sleep(0.5)", "## Discussion")  # fmt: skip
    failing = _write(labs / "b_failing.ipynb", "print('before')", "1 / 0", "print(2)")
    _write(labs / "c_ok2.ipynb", "print('still executed')", RENDERS_LETTERS)
    before = failing.read_bytes()
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.chdir(root)
        mp.setenv("LABS_DATA_DIR", "data")
        mp.setenv("LABS_CACHE_DIR", "cache")
        code = main(["run", "labs", "--profile", "SMOKE", "--profile-time"])
    return dict(root=root, labs=labs, code=code, out=out.getvalue(), before=before)


def _record(path):
    return notebooks.read(path).metadata["provenance"]


def test_a_failing_lab_does_not_stop_the_batch_and_is_left_as_it_was(batch):
    assert batch["code"] == 1
    assert (batch["labs"] / "b_failing.ipynb").read_bytes() == batch["before"]
    assert _record(batch["labs"] / "c_ok2.ipynb")["profile"] == "smoke"
    out = batch["out"]
    assert "Failed (left as they were): b_failing.ipynb." in out
    assert "Executed and stamped: a_ok.ipynb, c_ok2.ipynb." in out
    assert _leftovers(batch["labs"]) == []
    assert not any(notebooks.lock_path(p).exists() for p in batch["labs"].iterdir())


def test_the_table_names_profile_device_wall_time_and_result(batch):
    lines = batch["out"].splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("lab "))
    assert lines[header].split() == [
        "lab",
        "profile",
        "device",
        "wall",
        "time",
        "result",
    ]
    rows = {line.split()[0]: line for line in lines[header + 1 : header + 4]}
    device = environment.device_name()
    for name in ("a_ok", "b_failing", "c_ok2"):
        row = rows[str(Path("labs") / f"{name}.ipynb")]
        assert " smoke " in row and device in row and " s " in row
    assert rows["labs/b_failing.ipynb"].endswith(
        "failed: ZeroDivisionError: division by zero"
    )
    assert rows["labs/c_ok2.ipynb"].endswith("ok")


def test_the_stamp_lists_each_data_file_read_once_relative_to_its_root(batch):
    record = _record(batch["labs"] / "a_ok.ipynb")
    toy = hashlib.sha256(b"1,2,3\n").hexdigest()
    sample = sources.SAMPLES_DIR / "mnist-train-images-idx3-ubyte.gz"
    assert record["data_files"] == [
        {"path": "toy/numbers.csv", "root": "LABS_DATA_DIR", "sha256": toy},
        {
            "path": sample.name,
            "root": "helpers/samples",
            "sha256": sources.file_hash(sample),
        },
    ]
    assert record["helpers_sha256"] == stamp.helpers_hash()
    note = stamp.provenance_note(record)
    assert f"helpers SHA-256 `{stamp.helpers_hash()[:12]}`" in note
    assert "2 data files read" in note
    assert _record(batch["labs"] / "c_ok2.ipynb")["data_files"] == []


def test_the_stamp_records_the_font_families_a_lab_drew_letters_from(batch):
    record = _record(batch["labs"] / "c_ok2.ipynb")
    assert {"DejaVu Sans", "STIXGeneral", "cmr10"} <= set(record["fonts"])
    assert record["fonts"] == sorted(set(record["fonts"]))
    assert "fonts" not in _record(batch["labs"] / "a_ok.ipynb")  # it rendered none


def test_relative_data_and_cache_folders_are_the_callers_not_the_kernels(batch):
    nb = notebooks.read(batch["labs"] / "a_ok.ipynb")
    printed = next(c for c in nb.cells if "ds.fetch" in c.source).outputs[0].text
    root = batch["root"].resolve()
    assert printed.split() == [str(root / "data"), str(root / "cache")]
    assert sorted(p.name for p in batch["labs"].iterdir()) == [
        "a_ok.ipynb",
        "b_failing.ipynb",
        "c_ok2.ipynb",
    ]  # no cache created inside labs/


def test_the_time_split_is_stored_per_section_and_printed(batch):
    record = _record(batch["labs"] / "a_ok.ipynb")
    sections = {s["heading"]: s for s in record["time_split_s"]["sections"]}
    assert list(sections) == ["Setup", "Data", "Train"]  # Discussion has no code
    assert [s["phase"] for s in sections.values()] == ["other", "data", "training"]
    assert sections["Setup"]["cells"] == 2  # the Colab cell and `x = 1`
    assert sections["Train"]["seconds"] >= 0.5
    assert record["time_split_s"]["phases"]["training"] == sections["Train"]["seconds"]
    assert "Where the time went in labs/a_ok.ipynb:" in batch["out"]
    assert "training" in batch["out"] and "Train " in batch["out"]
    assert "Where the time went in labs/b_failing.ipynb" not in batch["out"]


def test_check_notes_labs_made_with_other_helpers_without_failing(
    batch, tmp_path, capsys
):
    path = tmp_path / "lab.ipynb"
    path.write_bytes((batch["labs"] / "c_ok2.ipynb").read_bytes())
    assert check.notes(path) == []
    assert main(["check", "--times", str(path)]) == 0
    assert "Where the time went in" in capsys.readouterr().out
    for helpers, expected in (
        ("0" * 64, "the helpers changed"),
        (None, "no helpers hash"),
    ):
        nb = notebooks.read(path)
        nb.metadata["provenance"]["helpers_sha256"] = helpers
        nbformat.write(nb, path)
        assert expected in check.notes(path)[0]
        assert check.problems(path) == []  # a note, not a problem
        assert main(["check", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{path}: note: ") and expected in out


# --- several labs at a time -----------------------------------------------------------

SLEEPS = """\
import os, time

start = time.time(); time.sleep(4)
print(start, time.time(), *(os.environ.get(v) for v in THREAD_VARS))"""


def test_jobs_run_labs_at_once_with_the_cores_shared_out(tmp_path, capsys):
    labs = tmp_path / "labs"
    # a and b start together (the first two of three unknown labs); c fails after them
    for name in ("a", "b"):
        _write(
            labs / f"{name}.ipynb", f"THREAD_VARS = {environment.THREAD_VARS!r}", SLEEPS
        )
    failing = _write(labs / "c.ipynb", "1 / 0")
    before = failing.read_bytes()
    assert main(["run", str(labs), "--profile", "smoke", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "3 labs (smoke), 2 at a time," in out
    assert "Failed (left as they were): c.ipynb." in out
    assert "Executed and stamped: a.ipynb, b.ipynb." in out
    assert failing.read_bytes() == before
    threads = environment.threads_per_lab(2)
    spans = []
    for name in ("a", "b"):
        nb = notebooks.read(labs / f"{name}.ipynb")
        start, end, *caps = nb.cells[-1].outputs[0].text.split()
        spans.append((float(start), float(end)))
        assert caps == [str(threads)] * len(environment.THREAD_VARS)
        record = nb.metadata["provenance"]
        assert (record["labs_at_once"], record["threads"]) == (2, threads)
        each = f"thread{'s' * (threads != 1)} each"
        assert f"2 labs at a time, {threads} {each}" in stamp.provenance_note(record)
    (a_start, a_end), (b_start, b_end) = spans
    assert a_start < b_end and b_start < a_end  # they overlapped


def test_one_lab_at_a_time_keeps_every_core_and_says_nothing_of_sharing(batch):
    record = _record(batch["labs"] / "a_ok.ipynb")
    assert (record["labs_at_once"], record["threads"]) == (1, os.cpu_count())
    assert "at a time" not in stamp.provenance_note(record)


def test_the_cores_are_shared_out_at_least_one_each(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert [environment.threads_per_lab(j) for j in (1, 2, 3, 16, 40)] == [
        16,
        8,
        5,
        1,
        1,
    ]
    env = environment.kernel_env("smoke", Path("log"), threads=5)
    assert {v: env[v] for v in environment.THREAD_VARS} == dict.fromkeys(
        environment.THREAD_VARS, "5"
    )


def test_labs_go_longest_first_and_unknown_ones_before_all(tmp_path):
    def lab(name, profile=None, wall=None):
        path = _write(tmp_path / f"{name}.ipynb", "print(1)")
        if profile:
            nb = notebooks.read(path)
            nb.metadata["provenance"] = {"profile": profile, "wall_time_s": wall}
            nbformat.write(nb, path)
        return path

    paths = [lab("short", "cpu", 10), lab("long", "cpu", 600), lab("never"),
             lab("smoke_only", "smoke", 9000), lab("middle", "cpu", 60)]  # fmt: skip
    order = [p.stem for p in runner.longest_first(paths, "cpu")]
    assert order == ["never", "smoke_only", "long", "middle", "short"]


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_a_whole_number_from_one(jobs, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path), "--jobs", jobs])
    assert exit_.value.code == 2
    assert f"{jobs!r}: give a whole number, 1 or more" in capsys.readouterr().err


# --- refusing before executing: a lock, a notebook that cannot be written -------------


def test_a_second_run_of_the_same_notebook_is_refused_and_a_dead_holder_blocks_nothing(
    tmp_path, capsys
):
    path = _write(tmp_path / "lab.ipynb", "print(1)")
    before = path.read_bytes()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom machinery import notebooks\n"
            "lock = notebooks.exclusive(sys.argv[1])\nlock.__enter__()\n"
            "print('held', flush=True)\n"
            "time.sleep(120)",
            str(path),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(MachineryError, match="already being executed"):
            runner.run(path, "smoke")
        assert main(["run", str(path), "--profile", "smoke"]) == 1
        out = capsys.readouterr().out
        assert f"skipped: {path} is already being executed (process {holder.pid}" in out
        assert "Skipped (not executed): lab.ipynb." in out
    finally:
        holder.kill()  # as a crash would: the system drops its lock
        holder.wait()
    assert notebooks.lock_path(path).exists()  # left by the killed holder ...
    with notebooks.exclusive(path):  # ... and blocking nothing
        pass
    assert not notebooks.lock_path(path).exists()  # removed when released
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


@contextlib.contextmanager
def _unwritable(path):
    """Make ``path`` unwritable for this process. Root ignores permission bits (and
    ``os.access`` says yes to root), so as root the immutable attribute is used: it
    stops root too. Skips where neither works."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root without `chattr +i` (immutable files)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("what", ["notebook", "folder"])
def test_an_unwritable_notebook_or_folder_is_refused_before_executing(
    tmp_path, capsys, what
):
    path = _write(tmp_path / "lab" / "lab.ipynb", "print(1)")
    before = path.read_bytes()
    with _unwritable(path if what == "notebook" else path.parent):
        with pytest.raises(MachineryError, match="cannot be written"):
            notebooks.check_writable(path)
        assert main(["run", str(path), "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    target = path if what == "notebook" else f"the folder {path.parent}"
    assert f"skipped: {target} cannot be written (" in out
    assert f"so {path} was not executed" in out
    assert "executing" in out and "ok (" not in out
    assert path.read_bytes() == before


# --- atomic writes --------------------------------------------------------------------


def test_a_write_stopped_by_the_file_size_limit_leaves_the_original(tmp_path):
    """A real failure from the system midway (RLIMIT_FSIZE: EFBIG, as a full disk gives
    ENOSPC), in a subprocess so the limit binds nothing else."""
    path = _write(tmp_path / "lab.ipynb", "print(1)")
    before = path.read_bytes()
    script = textwrap.dedent(
        """\
        import errno, resource, signal, sys
        from machinery import notebooks
        nb = notebooks.read(sys.argv[1])
        nb.cells[-1].source = "x" * 200_000
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
        try:
            notebooks.write(nb, sys.argv[1])
        except OSError as e:
            print(errno.errorcode[e.errno])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True
    )
    assert done.stdout.strip() == "EFBIG", done.stderr
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_a_full_disk_while_storing_an_executed_notebook_leaves_the_original(
    tmp_path, monkeypatch, full_disk
):
    path = _write(tmp_path / "lab.ipynb", "print(1)")
    path.chmod(0o640)
    before = path.read_bytes()
    with pytest.raises(OSError, match="No space left"):
        runner.run(path, "smoke", timeout=60)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    nb = notebooks.read(path)
    notebooks.write(nb, path)  # the real thing keeps the file's permissions
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.read_bytes() == before


def test_sync_colab_writes_only_what_changed(tmp_path, capsys):
    path = _write(tmp_path / "lab.ipynb", "print(1)")
    assert main(["sync-colab", str(path)]) == 0
    assert "Colab cell updated" in capsys.readouterr().out
    synced = path.read_bytes()
    assert notebooks.code_sources(notebooks.read(path))[0] == (
        colab.colab_cell_source()
    )
    assert main(["sync-colab", str(path)]) == 0
    assert path.read_bytes() == synced and capsys.readouterr().out == ""
    assert _leftovers(tmp_path) == []


# --- clear errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing.ipynb", "missing.ipynb: no such file"),
        (lambda d: d, "a folder without notebooks"),
        (lambda d: _text(d / "notes.md", "# not JSON"), "notes.md is not a Jupyter"),
        (lambda d: _text(d / "x.ipynb", '{"cells": 3}'), "x.ipynb is not a Jupyter"),
        (lambda d: _text(d / "l.ipynb", "[1, 2]"), "l.ipynb is not a Jupyter"),
    ],
)
@pytest.mark.parametrize("command", ["run", "sync-colab"])  # check: reports each
def test_a_path_that_is_no_notebook_is_one_clear_message(
    tmp_path, capsys, make, expected, command
):
    ok = _write(tmp_path / "ok" / "fine.ipynb", "print(1)")
    before = ok.read_bytes()
    assert main([command, str(ok), str(make(tmp_path))]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and expected in err, err
    assert "Traceback" not in err + out and len(err.splitlines()) == 1
    assert ok.read_bytes() == before  # reported before anything ran


def _text(path, text):
    path.write_text(text)
    return path


def test_a_profile_is_checked_by_the_one_rule(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "labs", "--profile", "fast"])
    assert exit_.value.code == 2
    assert (
        "'fast' is not a profile; use one of smoke, cpu, full"
        in capsys.readouterr().err
    )


def test_without_a_profile_the_default_is_used(monkeypatch, tmp_path):
    path = _write(tmp_path / "lab.ipynb", "print(1)")
    used = []
    monkeypatch.delenv("LABS_PROFILE", raising=False)
    monkeypatch.setattr("helpers.profile.default", lambda: "cpu")
    monkeypatch.setattr(
        runner,
        "run_all",
        lambda paths, profile, timeout, jobs: used.append((profile, jobs)) or [],
    )
    assert main(["run", str(path)]) == 0
    assert used == [("cpu", 1)]


def test_sync_colab_without_a_repository_says_what_to_add(
    tmp_path, monkeypatch, capsys
):
    config = _text(tmp_path / "_config.yml", "title: A book\n")
    monkeypatch.setattr(colab, "CONFIG", config)
    assert main(["sync-colab"]) == 2
    err = capsys.readouterr().err
    assert f"{config} names no repository" in err and "add `repository: {url:" in err
    assert len(err.splitlines()) == 1 and "Error" not in err  # one line, no raw error


def test_an_interrupted_batch_says_which_lab_was_interrupted_and_which_not_started(
    monkeypatch, tmp_path
):
    paths = [_write(tmp_path / f"{n}.ipynb", "print(1)") for n in ("a", "b", "c")]

    def fake_run(path, profile, timeout, at_once):
        if path.stem == "b":
            raise KeyboardInterrupt
        return {"wall_time_s": 1.0, "device": "CPU: test"}

    monkeypatch.setattr(runner, "run", fake_run)
    with contextlib.redirect_stdout(io.StringIO()):
        outcomes = runner.run_all(paths, "cpu")
    assert [o.result for o in outcomes] == [
        "ok",
        "interrupted: by SIGINT; left as it was",
        "not started: stopped by SIGINT",
    ]
    text = runner.table(outcomes)
    assert "Interrupted (left as they were): b.ipynb." in text
    assert "Not started: c.ipynb." in text


# --- the pieces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading, phase",
    [
        ("Setup", "other"),
        ("Data", "data"),
        ("Loading the data", "data"),
        ("Models", "training"),
        ("Train", "training"),
        ("Evaluate: AlexNet on CIFAR-10", "evaluation"),
        ("Reported vs ours", "evaluation"),
        ("Discussion", "other"),
        ("2. Small models in Keras: XOR and a two-layer classifier", "other"),
    ],
)
def test_headings_map_to_phases(heading, phase):
    assert timing.phase(heading) == phase


def test_time_split_from_the_timestamps_nbclient_stores():
    nb = _notebook("print(0)", "## Data ##", "print(1)", "### Details", "print(2)")

    def timed(cell, start, end):
        cell.metadata["execution"] = {
            "iopub.status.busy": f"2026-01-01T00:00:{start:09.6f}Z",
            "iopub.status.idle": f"2026-01-01T00:00:{end:09.6f}Z",
        }

    timed(nb.cells[1], 0, 0.25)
    timed(nb.cells[3], 1, 3.5)
    timed(nb.cells[5], 4, 5)
    split = timing.time_split(nb)
    assert split["sections"] == [
        {"heading": "(before the first section)", "phase": "other", "cells": 1,
         "seconds": 0.2},
        {"heading": "Data", "phase": "data", "cells": 2, "seconds": 3.5},
    ]  # fmt: skip
    assert split["phases"] == {
        "data": 3.5,
        "training": 0,
        "evaluation": 0,
        "other": 0.2,
    }
    text = timing.format_time_split(split, 10)
    assert "3.7 s in code cells of 10.0 s wall time" in text and "Data 3.5 s" in text


def test_the_data_log_is_written_only_when_asked(tmp_path, monkeypatch):
    data = _text(tmp_path / "data.bin", "abc")
    monkeypatch.delenv(sources.READ_LOG_VAR, raising=False)
    sources._log_read(data, "0" * 64)  # nothing to do, nothing fails
    log = tmp_path / "log.txt"
    monkeypatch.setenv(sources.READ_LOG_VAR, str(log))
    sha = hashlib.sha256(b"abc").hexdigest()
    assert sources.verify(data, {sha: "test"}, "") == "test"
    assert log.read_text() == f"{sha}  {data.resolve()}\n"
    with pytest.warns(UserWarning, match="unverified"):
        sources.verify(data, {}, "")
    env = {sources.CACHE_DIR_VAR: str(tmp_path)}
    assert environment.data_files(log, env) == [
        {"path": "data.bin", "root": "LABS_CACHE_DIR", "sha256": sha}
    ]  # read twice, listed once; relative to the cache


def test_a_file_outside_the_data_folders_is_named_without_its_folders(tmp_path):
    log = _text(tmp_path / "log.txt", f"{'1' * 64}  /somewhere/private/weights.pt\n")
    env = {sources.CACHE_DIR_VAR: str(tmp_path / "cache")}
    assert environment.data_files(log, env) == [
        {"path": "weights.pt", "root": "elsewhere", "sha256": "1" * 64}
    ]


def test_records_stay_json(batch):
    json.dumps(_record(batch["labs"] / "a_ok.ipynb"))
