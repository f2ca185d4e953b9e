"""Tests of tools/gpu_bundle.py, offline: the requirement walk on synthetic wheels, and the data
bundle of a synthetic lab from a synthetic data folder."""

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
    """A fake package index: name -> wheel, and a fetch that records what was asked for."""
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
    # a root pins lib-a 2.1 and app needs lib-a<2: the walk must say so rather than bundle it
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
        "x-1-cp311-abi3-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl",
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
            "train, test, classes = data.load_image_folder('hymenoptera', size=160)\nimg = data.load_image()",
            "model.load_weights('w.h5')\nnet.load_state_dict(sd)\nx = load_something_new(3)\ndata.load_image_folder(name)",
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
