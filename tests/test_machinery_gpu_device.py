"""The GPU machine's side (machinery/gpu/device.py) and the way back
(machinery/gpu/unpack.py), offline: packing only the finished labs within the device
tool's limits, unpacking them here, stopping a lab's whole process tree, and a run
that starts nothing when the data do not match."""

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from machinery import notebooks, processes
from machinery.__main__ import main
from machinery.gpu import device, file_sha256


def write_notebook(path: Path, code: list[str]) -> Path:
    cells = [new_markdown_cell("# A lab")] + [new_code_cell(c) for c in code]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def lab(path: Path, code: list[str], executed_as: str | None = None) -> Path:
    """A notebook; with ``executed_as``, executed and stamped as the runner does."""
    write_notebook(path, code)
    if executed_as:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            cell.execution_count = i + 1
        nb.metadata["provenance"] = {
            "profile": executed_as,
            "code_sha256": notebooks.code_hash(nb),
        }
        nbformat.write(nb, path)
    return path


def write_manifest(repo: Path, labs: list[dict]) -> None:
    """The bundle's manifest here: which labs were sent, with their file and code
    hashes."""
    entries = [
        {
            "path": x["path"],
            "name": x["name"],
            "sha256": file_sha256(repo / x["path"]),
            "code_sha256": notebooks.code_hash(notebooks.read(repo / x["path"])),
        }
        for x in labs
    ]
    (repo / ".bundle").mkdir(exist_ok=True)
    (repo / ".bundle" / "manifest.json").write_text(json.dumps({"labs": entries}))


@pytest.fixture
def ran(tmp_path):
    """A device-side repository after a run: a finished lab (executed in place),
    a cut one (original left), a failed one; and the matching repository here,
    still unexecuted."""
    here, there = tmp_path / "here", tmp_path / "there"
    for repo in (here, there):
        (repo / "labs").mkdir(parents=True)
        for name in ("done", "cut", "broken"):
            lab(repo / "labs" / f"{name}.ipynb", [f"print('{name}')"])
    lab(there / "labs" / "done.ipynb", ["print('done')"], executed_as="full")
    labs = [
        {
            "path": f"labs/{name}.ipynb",
            "name": name,
            "sha256": file_sha256(here / "labs" / f"{name}.ipynb"),
            "status": status,
        }
        for name, status in (("done", "finished"), ("cut", "cut"), ("broken", "failed"))
    ]
    logs = there / ".bundle" / "logs"
    logs.mkdir(parents=True)
    for x in labs:
        (logs / f"{x['name']}.log").write_text(f"log of {x['name']}\n")
    write_manifest(here, labs)
    out = tmp_path / "OUT"
    out.mkdir()
    summary = {"profile": "full", "labs": labs, "error": None}
    summary["notebooks"] = device.pack(out, labs, there, logs)
    (out / "summary.json").write_text(json.dumps(summary))
    return here, there, out


def test_pack_returns_only_the_finished_labs(ran):
    here, there, out = ran
    assert sorted(p.name for p in out.iterdir()) == [
        "logs.tar.gz",
        "notebooks.tar.gz",
        "summary.json",
    ]
    import tarfile

    with tarfile.open(out / "notebooks.tar.gz") as tar:
        assert tar.getnames() == ["labs/done.ipynb"]
    with tarfile.open(out / "logs.tar.gz") as tar:
        assert sorted(tar.getnames()) == [
            "logs/broken.log",
            "logs/cut.log",
            "logs/done.log",
        ]


def test_unpack_restores_the_finished_labs_only(ran, capsys):
    here, there, out = ran
    before = {p.name: p.read_bytes() for p in (here / "labs").iterdir()}
    logs = here / "returned-logs"
    assert (
        main(["gpu", "unpack", str(out), "--repo", str(here), "--logs-dir", str(logs)])
        == 0
    )
    assert (here / "labs" / "done.ipynb").read_bytes() == (
        there / "labs" / "done.ipynb"
    ).read_bytes()
    for name in ("cut.ipynb", "broken.ipynb"):
        assert (here / "labs" / name).read_bytes() == before[name]
    assert (logs / "cut.log").read_text() == "log of cut\n"
    assert "1 notebook(s) restored" in capsys.readouterr().out


def test_unpack_keeps_a_notebook_changed_here_and_refuses_a_tampered_archive(
    ran, capsys
):
    here, there, out = ran
    edited = lab(
        here / "labs" / "done.ipynb", ["print('edited meanwhile')"]
    ).read_bytes()
    args = [
        "gpu",
        "unpack",
        str(out),
        "--repo",
        str(here),
        "--logs-dir",
        str(here / "l"),
    ]
    assert main(args) == 1
    assert "changed here since it was bundled" in capsys.readouterr().out
    assert (here / "labs" / "done.ipynb").read_bytes() == edited
    assert main(args + ["--force"]) == 0
    blob = bytearray((out / "notebooks.tar.gz").read_bytes())
    blob[-5] ^= 0xFF
    (out / "notebooks.tar.gz").write_bytes(bytes(blob))
    assert main(args + ["--force"]) == 2
    assert "does not match its sum" in capsys.readouterr().err


def test_pack_splits_a_large_archive_and_unpack_joins_it(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(device, "PART", 4096)
    here, there = tmp_path / "here", tmp_path / "there"
    labs = []
    for i in range(3):
        for repo in (here, there):
            (repo / "labs").mkdir(parents=True, exist_ok=True)
            lab(repo / "labs" / f"l{i}.ipynb", [f"x = {i}"])
        path = lab(there / "labs" / f"l{i}.ipynb", [f"x = {i}"], executed_as="full")
        nb = json.loads(path.read_text())
        nb["metadata"]["noise"] = os.urandom(3000).hex()  # incompressible, like PNGs
        path.write_text(json.dumps(nb))
        labs.append(
            {
                "path": f"labs/l{i}.ipynb",
                "name": f"l{i}",
                "sha256": file_sha256(here / "labs" / f"l{i}.ipynb"),
                "status": "finished",
            }
        )
    write_manifest(here, labs)
    out = tmp_path / "OUT"
    out.mkdir()
    packed = device.pack(out, labs, there, tmp_path / "no-logs")
    assert len(packed["files"]) > 1
    assert all(f.startswith("notebooks.tar.gz.part") for f in packed["files"])
    assert all((out / f).stat().st_size <= 4096 for f in packed["files"])
    (out / "summary.json").write_text(
        json.dumps({"profile": "full", "labs": labs, "notebooks": packed})
    )
    args = ["gpu", "unpack", str(out), "--repo", str(here)]
    assert main(args + ["--logs-dir", str(tmp_path / "l")]) == 0
    for i in range(3):
        name = f"labs/l{i}.ipynb"
        assert (here / name).read_bytes() == (there / name).read_bytes()


def test_pack_leaves_out_a_notebook_over_the_limits(tmp_path, monkeypatch):
    import os

    there = tmp_path / "there"
    (there / "labs").mkdir(parents=True)
    labs = []
    for name, size in (("small", 100), ("huge", 40_000)):
        path = lab(there / "labs" / f"{name}.ipynb", ["1"], executed_as="full")
        nb = json.loads(path.read_text())
        nb["metadata"]["noise"] = os.urandom(size).hex()
        path.write_text(json.dumps(nb))
        labs.append({"path": f"labs/{name}.ipynb", "name": name, "status": "finished"})
    monkeypatch.setattr(device, "OUT_MAX_TOTAL", 256 * 1024 + 20_000)
    out = tmp_path / "OUT"
    out.mkdir()
    packed = device.pack(out, labs, there, tmp_path / "no-logs")
    assert [x["returned"] for x in labs] == [True, False]
    assert packed["files"] == ["notebooks.tar.gz"]


def test_kill_tree_reaches_a_child_in_a_session_of_its_own():
    import subprocess
    import sys
    import time

    # like the runner and its kernel (jupyter_client starts kernels
    # with start_new_session)
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    child = int(proc.stdout.readline())
    start = time.monotonic()
    pids = device.kill_tree(proc)
    assert child in pids and proc.poll() is not None
    for _ in range(50):
        if not processes.alive(child):
            break
        time.sleep(0.1)
    assert not processes.alive(child)
    assert time.monotonic() - start < 5


def test_run_labs_runs_nothing_when_the_data_do_not_match(tmp_path):
    bundle = tmp_path / ".bundle"
    (bundle / "data").mkdir(parents=True)
    (bundle / "data" / "x.bin").write_bytes(b"x")
    (bundle / "data" / "SHA256SUMS").write_text("0" * 64 + "  x.bin\n")
    manifest = {"labs": [{"path": "labs/a.ipynb", "name": "a", "sha256": ""}]}
    (bundle / "manifest.json").write_text(json.dumps(dict(manifest, profile="full")))
    out = tmp_path / "OUT"
    args = ["gpu", "run-labs", "--bundle", str(bundle), "--repo", str(tmp_path)]
    assert main(args + ["--out", str(out), "--no-install"]) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert "x.bin" in summary["error"]
    assert summary["labs"][0]["status"] == "not-started"


def test_the_device_side_imports_only_the_standard_library():
    """`python -m machinery gpu run-labs` must start on the bare GPU machine, before
    the wheels (nbformat, ...) are installed: nothing beyond the standard library."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from machinery.__main__ import parser\n"
        "import machinery.environment, machinery.gpu.device\n"
        "parser().parse_args(['gpu', 'run-labs'])\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    assert "machinery" in loaded
    third_party = {"helpers", "numpy", "nbformat", "nbclient", "packaging", "yaml"}
    assert loaded & third_party == set()
