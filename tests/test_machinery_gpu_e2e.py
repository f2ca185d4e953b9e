"""End to end, on this CPU: `python -m machinery gpu bundle`, then `gpu run-labs`
exactly as on the GPU machine (the same command, the smoke profile, --no-install since
the wheels are cp312), then `gpu unpack`. SLOW: about a minute (one real lab,
permuted_mnist, in smoke; two tiny notebooks).

1. A generous deadline: permuted_mnist and a tiny notebook both finish and come back.
2. A deadline too short for a notebook that sleeps: the tiny one finishes and is packed,
   the sleeper is reported as cut, its processes (the kernel too) are gone, its notebook
   is neither packed nor changed, and the script exits before the deadline.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GPU = [sys.executable, "-m", "machinery", "gpu"]
DATA = b"not read in smoke"  # stands for the MNIST file permuted_mnist's stamp lists


def notebook(path: Path, code: list[str]) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A test notebook"}]
    cells += [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": c,
        }
        for c in code
    ]
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    path.write_text(
        json.dumps(
            {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
        )
    )


def make_repo(folder: Path) -> Path:
    """A copy of what the runner needs: helpers/, machinery/, _config.yml and three
    labs; permuted_mnist's stamp lists one stand-in data file."""
    (folder / "labs").mkdir(parents=True)
    for package in ("helpers", "machinery"):
        shutil.copytree(
            ROOT / package,
            folder / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "_config.yml", folder)
    nb = json.loads((ROOT / "labs" / "permuted_mnist.ipynb").read_text())
    nb["metadata"]["provenance"]["data_files"] = [
        {
            "path": "mnist/train-images-idx3-ubyte.gz",
            "root": "LABS_DATA_DIR",
            "sha256": hashlib.sha256(DATA).hexdigest(),
        }
    ]
    (folder / "labs" / "permuted_mnist.ipynb").write_text(json.dumps(nb))
    notebook(folder / "labs" / "quick.ipynb", ["print('quick')"])
    notebook(folder / "labs" / "sleepy.ipynb", ["import time\ntime.sleep(600)"])
    return folder


def run_labs(
    repo: Path, out: Path, *args: str
) -> tuple[subprocess.CompletedProcess, float]:
    cmd = GPU + ["run-labs", "--bundle", ".bundle"]
    cmd += ["--out", str(out), "--no-install", "--poll-s", "0.2", *args]
    env = dict(os.environ, MPLBACKEND="Agg")  # must not reach the kernels
    start = time.monotonic()
    done = subprocess.run(
        cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=400
    )
    return done, time.monotonic() - start


@pytest.mark.slow
def test_bundle_run_labs_and_unpack_on_this_cpu(tmp_path):
    there = make_repo(tmp_path / "there")  # stands for the device's copy of the tree
    here = make_repo(tmp_path / "here")
    source = tmp_path / "data" / "mnist"
    source.mkdir(parents=True)
    (source / "train-images-idx3-ubyte.gz").write_bytes(DATA)
    wheels = tmp_path / "whl"
    wheels.mkdir()
    (wheels / "requirements.lock").write_text("")
    (wheels / "keras-0-py3-none-any.whl").write_bytes(b"not installed here")
    labs = [f"labs/{n}.ipynb" for n in ("permuted_mnist", "quick", "sleepy")]
    made = subprocess.run(
        GPU
        + ["bundle", "--labs", *labs]
        + ["--source", str(source.parent), "--wheels", str(wheels)]
        + ["--profile", "smoke", "--workers", "2"],
        cwd=there,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert (
        'python3 -m machinery gpu run-labs --bundle .bundle --out "$OUT" '
        "--deadline-s 540" in made.stdout
    )
    assert json.loads((there / ".bundle" / "manifest.json").read_text())["data"] == [
        "mnist/train-images-idx3-ubyte.gz"
    ]
    original = {n: (there / n).read_bytes() for n in labs}
    bundle = there / ".bundle"  # its manifest says which labs may come back

    # 1. both finish and come back
    out1 = tmp_path / "out1"
    done, _ = run_labs(
        there, out1, "--labs", "permuted_mnist", "quick", "--deadline-s", "300"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((out1 / "summary.json").read_text())
    assert {x["name"]: x["status"] for x in summary["labs"]} == {
        "permuted_mnist": "finished",
        "quick": "finished",
    }
    with tarfile.open(out1 / summary["notebooks"]["files"][0]) as tar:
        assert sorted(tar.getnames()) == labs[:2]
    logs = here / "returned-logs"
    unpacked = subprocess.run(
        GPU + ["unpack", str(out1), "--bundle", str(bundle), "--logs-dir", str(logs)],
        cwd=here,
        capture_output=True,
        text=True,
    )
    assert unpacked.returncode == 0, unpacked.stdout + unpacked.stderr
    for name in labs[:2]:
        assert (
            (here / name).read_bytes() == (there / name).read_bytes() != original[name]
        )
        stamp = json.loads((here / name).read_text())["metadata"]["provenance"]
        assert stamp["profile"] == "smoke" and stamp["keras_backend"] == "torch"
    assert "quick" in (logs / "quick.log").read_text()
    # figures reach the page (the kernel's inline backend, not one leaked from outside)
    assert '"image/png"' in (here / "labs" / "permuted_mnist.ipynb").read_text()

    # 2. the sleeper is cut a margin before the deadline; the quick one still comes back
    out2 = tmp_path / "out2"
    deadline = 50  # the quick one runs alone first (one worker), so a busy CPU is fine
    done, seconds = run_labs(
        there,
        out2,
        *("--labs", "quick", "sleepy", "--workers", "1"),
        *("--deadline-s", str(deadline), "--margin-s", "10"),
    )
    assert seconds < deadline, done.stdout
    assert done.returncode == 1, done.stdout + done.stderr  # not every lab finished
    summary = json.loads((out2 / "summary.json").read_text())
    by_name = {x["name"]: x for x in summary["labs"]}
    assert by_name["quick"]["status"] == "finished", done.stdout
    assert by_name["sleepy"]["status"] == "cut"
    assert len(by_name["sleepy"]["killed_pids"]) >= 2  # the runner and its kernel
    time.sleep(0.5)
    assert not [p for p in by_name["sleepy"]["killed_pids"] if alive(p)]
    assert (there / "labs" / "sleepy.ipynb").read_bytes() == original[
        "labs/sleepy.ipynb"
    ]
    with tarfile.open(out2 / "notebooks.tar.gz") as tar:
        assert tar.getnames() == ["labs/quick.ipynb"]
    with tarfile.open(out2 / "logs.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["logs/quick.log", "logs/sleepy.log"]
    assert len(list(out2.iterdir())) <= 8
    unpacked = subprocess.run(
        GPU
        + ["unpack", str(out2), "--force", "--bundle", str(bundle)]
        + ["--logs-dir", str(logs)],
        cwd=here,
        capture_output=True,
        text=True,
    )
    assert unpacked.returncode == 0, unpacked.stdout
    assert "sleepy" in unpacked.stdout and "cut" in unpacked.stdout
    assert (here / "labs" / "sleepy.ipynb").read_bytes() == original[
        "labs/sleepy.ipynb"
    ]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


if not Path("/proc").is_dir():  # the cut-off check reads the process table
    pytestmark = pytest.mark.skip(reason="needs /proc (Linux)")
