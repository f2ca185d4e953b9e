"""The runner never loses or fakes a page: a SIGTERM or Ctrl-C stops the batch, its
workers and kernels with it, and the table says exactly what became of each lab; a
notebook edited while it ran is not overwritten; a path is run once; LABS_PROFILE is
honoured or refused in words; memory run out names the lab and what to try; `check`
reports every notebook. The stop tests run the real command on sleeping tiny
notebooks (a few kernels, ~10 s each)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from machinery import notebooks, runner
from machinery.__main__ import main
from machinery.processes import alive, descendants, stop_trees

pytestmark = pytest.mark.slow  # real kernels: `pytest -m 'not slow'` skips

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def lab(path: Path, code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=[new_code_cell(code)], metadata={"kernelspec": KERNELSPEC})
    nbformat.write(nb, path)
    return path


def sleeper(path: Path, seconds: float = 6) -> Path:
    """A lab that says it started (a file ``started-NAME`` holding its kernel's pid,
    beside it) and then sleeps."""
    return lab(
        path,
        f"import os, time\nopen('started-{path.stem}', 'w').write(str(os.getpid()))\n"
        f"time.sleep({seconds})",
    )


@pytest.fixture
def start_run():
    """Start `python -m machinery run ARGS --profile smoke` in a session of its own
    (a terminal's foreground group); whatever a failed test leaves is stopped."""
    started = []

    def start(*args: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "machinery", "run", *args]
        proc = subprocess.Popen(
            command + ["--profile", "smoke"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_trees([proc.pid], grace=1.0, reap=proc.poll)


def wait_until_started(proc, *labs: Path) -> list[int]:
    """Wait until each of ``labs`` runs; the kernels' pids."""
    markers = [p.with_name(f"started-{p.stem}") for p in labs]
    end = time.monotonic() + 180
    while not all(m.is_file() and m.read_text() for m in markers):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < end, "the labs never started"
        time.sleep(0.2)
    return [int(m.read_text()) for m in markers]


def stopped(proc, sig: int, group: bool) -> tuple[int, str, list[int]]:
    """Send ``sig`` to the runner (or, as Ctrl-C does, to its whole group); its exit
    status, output, and every process that was below it."""
    below = descendants(proc.pid)
    os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out, below


def result(out: str, path: Path) -> str:
    """The result column of ``path``'s row in the table."""
    row = next(line for line in out.splitlines() if line.startswith(f"{path} "))
    return row.split("  ")[-1].strip()


def test_sigterm_to_jobs_2_stops_workers_and_kernels_and_rewrites_nothing(
    tmp_path, start_run
):
    labs = [sleeper(tmp_path / f"{n}.ipynb") for n in ("a", "b")]
    before = {p: p.read_bytes() for p in labs}
    proc = start_run(*map(str, labs), "--jobs", "2")
    kernels = wait_until_started(proc, *labs)
    started = time.monotonic()
    code, out, below = stopped(proc, signal.SIGTERM, group=False)  # as `timeout` does
    assert code == 128 + signal.SIGTERM, out
    for path in labs:
        assert result(out, path) == "interrupted: by SIGTERM; left as it was"
    assert "Executed and stamped: none." in out
    assert "Interrupted (left as they were): a.ipynb, b.ipynb." in out
    assert set(kernels) <= set(below) and len(below) >= 4  # 2 workers, 2 kernels
    time.sleep(max(0.0, 8 - (time.monotonic() - started)))  # past the labs' sleep
    assert [pid for pid in below if alive(pid)] == []
    assert {p: p.read_bytes() for p in labs} == before  # no lab stamped after
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_ctrl_c_with_jobs_2_reports_what_ran_what_was_cut_and_what_never_began(
    tmp_path, start_run
):
    quick = lab(tmp_path / "a.ipynb", "print('quick')")
    cut = [sleeper(tmp_path / f"{n}.ipynb", 60) for n in ("b", "c")]
    waiting = sleeper(tmp_path / "d.ipynb", 60)
    before = {p: p.read_bytes() for p in [*cut, waiting]}
    proc = start_run(str(tmp_path), "--jobs", "2")  # a and b first; c after a
    wait_until_started(proc, *cut)
    code, out, below = stopped(proc, signal.SIGINT, group=True)
    assert code == 130, out
    assert result(out, quick) == "ok"
    assert notebooks.stored_stamp(quick)["profile"] == "smoke"
    for path in cut:
        assert result(out, path) == "interrupted: by SIGINT; left as it was"
    assert result(out, waiting) == "not started: stopped by SIGINT"
    assert "Executed and stamped: a.ipynb." in out
    assert "Not started: d.ipynb." in out
    assert {p: p.read_bytes() for p in before} == before
    time.sleep(1)
    assert [pid for pid in below if alive(pid)] == []


def test_ctrl_c_with_jobs_1_stops_the_batch_and_says_so(tmp_path, start_run):
    first = lab(tmp_path / "a.ipynb", "print('first')")
    cut = sleeper(tmp_path / "b.ipynb", 60)
    last = lab(tmp_path / "c.ipynb", "print('last')")
    before = {p: p.read_bytes() for p in (cut, last)}
    proc = start_run(str(tmp_path))
    wait_until_started(proc, cut)
    code, out, below = stopped(proc, signal.SIGINT, group=True)
    assert code == 130, out
    assert [result(out, p) for p in (first, cut, last)] == [
        "ok",
        "interrupted: by SIGINT; left as it was",
        "not started: stopped by SIGINT",
    ]
    assert "AssertionError" not in out and "[3/3]" not in out  # c never began
    assert {p: p.read_bytes() for p in before} == before
    time.sleep(1)
    assert [pid for pid in below if alive(pid)] == []


# --- a notebook edited while it runs --------------------------------------------------

EDITS_ITSELF = """\
import json
nb = json.load(open("lab.ipynb"))
nb["cells"].append({"cell_type": "markdown", "id": "mine", "metadata": {},
                    "source": "added while it ran"})
json.dump(nb, open("lab.ipynb", "w"))"""


def test_a_notebook_edited_while_it_runs_is_kept_and_the_run_saved_beside(
    tmp_path, capsys
):
    path = lab(tmp_path / "lab.ipynb", EDITS_ITSELF)
    assert main(["run", str(path), "--profile", "smoke"]) == 1
    out = capsys.readouterr().out
    copy = tmp_path / "lab.executed.ipynb"
    assert f"changed: {path} was edited while it was executed" in out
    assert f"the executed notebook is {copy}" in out
    assert "Edited while executing (left as they are, executed copy beside): " in out
    edited = json.loads(path.read_text())
    assert edited["cells"][-1]["source"] == "added while it ran"  # the user's edit
    assert "provenance" not in edited["metadata"]
    executed = notebooks.read(copy)
    assert executed.metadata["provenance"]["profile"] == "smoke"
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lab.executed.ipynb",
        "lab.ipynb",
    ]
    assert notebooks.beside(path, "executed") == tmp_path / "lab.executed-2.ipynb"


# --- paths, profiles, memory ----------------------------------------------------------


def fake_runs(monkeypatch, raises=None) -> list:
    """Replace the execution of one lab; the calls it got."""
    calls = []

    def run(path, profile, timeout, at_once):
        calls.append((Path(path), profile))
        if raises:
            raise raises
        return {"wall_time_s": 1.0, "device": "CPU: test"}

    monkeypatch.setattr(runner, "run", run)
    return calls


def test_a_path_given_twice_or_through_its_folder_runs_once(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("LABS_PROFILE", raising=False)  # labs/conftest.py sets it
    path = lab(tmp_path / "labs" / "x.ipynb", "print(1)")
    calls = fake_runs(monkeypatch)
    folder = tmp_path / "labs"
    assert main(["run", str(path), str(path), str(folder), "--profile", "cpu"]) == 0
    assert calls == [(path, "cpu")]
    assert "Executed and stamped: x.ipynb." in capsys.readouterr().out


@pytest.mark.parametrize(
    "exported, given, used",
    [("cpu", None, "cpu"), (" Full ", None, "full"), ("smoke", "smoke", "smoke"),
     ("", "cpu", "cpu")],
)  # fmt: skip
def test_an_exported_labs_profile_is_honoured(
    tmp_path, monkeypatch, exported, given, used
):
    path = lab(tmp_path / "x.ipynb", "print(1)")
    calls = fake_runs(monkeypatch)
    monkeypatch.setenv("LABS_PROFILE", exported)
    args = ["run", str(path)] + (["--profile", given] if given else [])
    assert main(args) == 0
    assert calls == [(path, used)]


@pytest.mark.parametrize(
    "exported, given, expected",
    [("fast", None, "LABS_PROFILE='fast' is not a profile; export one of smoke"),
     ("fast", "cpu", "LABS_PROFILE='fast' is not a profile"),
     ("smoke", "cpu", "--profile cpu and LABS_PROFILE=smoke disagree")],
)  # fmt: skip
def test_an_invalid_or_conflicting_labs_profile_is_refused_in_words(
    tmp_path, monkeypatch, capsys, exported, given, expected
):
    path = lab(tmp_path / "x.ipynb", "print(1)")
    calls = fake_runs(monkeypatch)
    monkeypatch.setenv("LABS_PROFILE", exported)
    args = ["run", str(path)] + (["--profile", given] if given else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.splitlines()) == 1
    assert calls == []


@pytest.mark.parametrize(
    "error, profile, expected",
    [
        (MemoryError(), "cpu", "MemoryError: {lab} ran out of memory in the cpu "
         "profile; try --profile smoke or fewer labs at once (--jobs 1)"),
        (CellExecutionError("tb", "MemoryError", ""), "full",
         "ran out of memory in the full profile; try --profile cpu or fewer"),
        (MemoryError(), "smoke", "in the smoke profile; try fewer labs at once"),
    ],
    ids=["in-the-runner", "in-a-cell", "smallest-profile"],
)  # fmt: skip
def test_memory_run_out_names_the_lab_and_profile_and_what_to_try(
    tmp_path, monkeypatch, error, profile, expected
):
    path = lab(tmp_path / "big.ipynb", "x = [0] * 10**12")
    fake_runs(monkeypatch, raises=error)
    outcome = runner.execute(path, profile)
    assert outcome.status == "failed"
    assert expected.format(lab=path) in outcome.result


# --- check: every notebook reported ---------------------------------------------------


def test_check_reports_every_notebook_each_broken_one_in_one_line(tmp_path, capsys):
    folder = tmp_path / "labs"
    (folder).mkdir()
    (folder / "a_not_json.ipynb").write_text("not JSON")
    stamped = lab(folder / "b_bad_stamp.ipynb", "print(1)")
    nb = notebooks.read(stamped)
    nb.metadata["provenance"] = "not a stamp"
    nbformat.write(nb, stamped)
    fine = lab(folder / "c_fine.ipynb", "print(1)")
    missing = tmp_path / "gone.ipynb"
    assert main(["check", str(folder), str(missing)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    broken = [line for line in lines if "cannot be checked" in line]
    assert len(broken) == 3 and "Traceback" not in out + err
    assert (
        f"{folder / 'a_not_json.ipynb'}: cannot be checked: it is not a Jupyter" in out
    )
    assert f"{stamped}: cannot be checked: its cells or provenance stamp are" in out
    assert f"{missing}: cannot be checked: no such file" in out
    assert f"{fine}: 1 of 1 code cells were never executed" in out  # still checked
    assert lines[-1].startswith(str(missing))  # in order, to the last one


WORKER_UNDER_A_RUNNER = """\
import subprocess, sys, time
worker = '''
import subprocess, sys, time
from machinery.processes import die_with_parent

die_with_parent(poll_s=0.1)
kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                          start_new_session=True)  # as jupyter_client starts one
print(kernel.pid, flush=True)
time.sleep(60)
'''
w = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
print(w.pid, w.stdout.readline().strip(), flush=True)
time.sleep(60)
"""


def test_a_worker_and_its_kernel_die_when_the_runner_is_killed_outright():
    runner_ = subprocess.Popen(
        [sys.executable, "-c", WORKER_UNDER_A_RUNNER], stdout=subprocess.PIPE, text=True
    )
    pids = [int(p) for p in runner_.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(p) for p in pids)
    runner_.kill()  # SIGKILL: no handler runs in the runner
    runner_.wait()
    end = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < end:
        time.sleep(0.1)
    survivors = [p for p in pids if alive(p)]
    for pid in survivors:  # leave nothing behind, even when failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
