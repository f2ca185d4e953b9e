"""The GPU round trip never loses or fakes a page: `gpu data` and `gpu bundle` never
delete a folder they did not make (nor the data they copy), and `gpu unpack` restores
only the bundled labs, each as an executed notebook of the code it was bundled with,
says one line for each broken or missing file, writes nothing outside and leaves no
temporary file. Offline and fast: synthetic folders, crafted returns."""

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from machinery import notebooks
from machinery.__main__ import main
from machinery.gpu import device, file_sha256
from machinery.gpu.data import MARKER

# --- gpu data / gpu bundle: what they may delete --------------------------------------

FILES = {"mnist/train.gz": b"mnist", "images/dog.jpg": b"dog"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.fixture
def data_dir(data_folder, tmp_path, monkeypatch):
    """A data folder with SHA256SUMS, as the shared one has; an empty cache."""
    monkeypatch.chdir(tmp_path)
    return data_folder(FILES)


def gpu_data(source: Path, dest: Path) -> int:
    return main(["gpu", "data", "--source", str(source), "--dest", str(dest),
                 "--datasets", "mnist", "--max-mb", "1"])  # fmt: skip


@pytest.mark.parametrize(
    "where",
    [
        lambda data, cache: data,  # the data folder itself
        lambda data, cache: data / "bundle",  # inside it
        lambda data, cache: data.parent,  # holding it
        lambda data, cache: cache,  # the cache
    ],
    ids=["is-source", "inside-source", "holds-source", "is-cache"],
)
def test_data_refuses_a_destination_that_is_inside_or_holds_a_source(
    data_dir, tmp_path, capsys, where
):
    (tmp_path / "cache" / "weights").mkdir(parents=True)
    (tmp_path / "cache" / "weights" / "w.h5").write_bytes(b"cached")
    before_data, before_cache = snapshot(data_dir), snapshot(tmp_path / "cache")
    dest = where(data_dir, tmp_path / "cache")
    assert gpu_data(data_dir, dest) == 1
    err = capsys.readouterr().err
    assert "is, holds or lies inside" in err and "give another destination" in err
    assert len(err.splitlines()) == 1
    assert snapshot(data_dir) == before_data  # every data file still there
    assert snapshot(tmp_path / "cache") == before_cache
    assert not (data_dir / "bundle").exists()


def test_data_never_deletes_a_folder_it_did_not_make_even_with_sha256sums(
    data_dir, tmp_path, capsys
):
    copy = tmp_path / "my-copy"  # a copy of the data folder: SHA256SUMS and all
    for rel, content in snapshot(data_dir).items():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes(content)
    before = snapshot(copy)
    assert gpu_data(data_dir, copy) == 1
    err = capsys.readouterr().err
    assert "holds files this tool did not write" in err and MARKER in err
    assert snapshot(copy) == before
    # a folder it made, it replaces; an empty one it takes
    made, empty = tmp_path / "made", tmp_path / "empty"
    empty.mkdir()
    for dest in (made, made, empty):
        assert gpu_data(data_dir, dest) == 0
        assert sorted(snapshot(dest)) == [MARKER, "SHA256SUMS", "mnist/train.gz"]


def test_bundle_refuses_a_destination_holding_its_data_and_one_it_did_not_make(
    data_dir, tmp_path, capsys
):
    wheels = tmp_path / "whl"
    wheels.mkdir()
    (wheels / "requirements.lock").write_text("")
    lab = tmp_path / "labs" / "a.ipynb"
    lab.parent.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), lab)
    before = snapshot(data_dir)

    def bundle(dest):
        return main(["gpu", "bundle", "--labs", str(lab), "--source", str(data_dir),
                     "--wheels", str(wheels), "--datasets", "mnist",
                     "--dest", str(dest)])  # fmt: skip

    assert bundle(tmp_path) == 1  # its data folder would be the source
    assert "is, holds or lies inside" in capsys.readouterr().err
    assert bundle(wheels) == 1  # the wheels it copies
    assert "is, holds or lies inside" in capsys.readouterr().err
    mine = tmp_path / "mine"
    (mine / "data").mkdir(parents=True)
    (mine / "data" / "notes.txt").write_text("keep me")
    assert bundle(mine) == 1
    assert "did not write" in capsys.readouterr().err
    assert (mine / "data" / "notes.txt").read_text() == "keep me"
    assert snapshot(data_dir) == before
    assert bundle(tmp_path / ".bundle") == 0  # a new folder: made, marked
    assert (tmp_path / ".bundle" / MARKER).is_file()
    assert bundle(tmp_path / ".bundle") == 0  # and replaced the next time


# --- gpu unpack: crafted and broken returns -------------------------------------------


def executed(code: list[str], profile="full", ran=True, stamped_code=None) -> bytes:
    """A notebook as the runner leaves it: every code cell executed (unless not
    ``ran``), stamped in ``profile`` with its code hash (or ``stamped_code``)."""
    cells = [new_markdown_cell("# A lab")] + [new_code_cell(c) for c in code]
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells[1:]):
        cell.execution_count = i + 1 if ran else None
    code_sha = stamped_code or notebooks.code_hash(nb)
    nb.metadata["provenance"] = {"profile": profile, "code_sha256": code_sha}
    return nbformat.writes(nb).encode()


@pytest.fixture
def repo(tmp_path):
    """The repository here: labs a (bundled) and b (not bundled), tests/; the
    bundle's manifest lists a only."""
    root = tmp_path / "here"
    (root / "labs").mkdir(parents=True)
    (root / "tests").mkdir()
    for name in ("a", "b"):
        nbformat.write(
            new_notebook(cells=[new_markdown_cell("# A lab"), new_code_cell("x = 1")]),
            root / "labs" / f"{name}.ipynb",
        )
    nb = notebooks.read(root / "labs" / "a.ipynb")
    entry = {"path": "labs/a.ipynb", "name": "a",
             "sha256": file_sha256(root / "labs" / "a.ipynb"),
             "code_sha256": notebooks.code_hash(nb)}  # fmt: skip
    (root / ".bundle").mkdir()
    (root / ".bundle" / "manifest.json").write_text(json.dumps({"labs": [entry]}))
    return root


def returned(out: Path, files: dict[str, bytes], finished=None, logs=None) -> Path:
    """A crafted $OUT: ``files`` in notebooks.tar.gz, each listed as finished (or
    the paths ``finished``), the ``logs`` members in logs.tar.gz."""
    out.mkdir(exist_ok=True)
    blob = device.tar_bytes(sorted(files.items()))
    (out / "notebooks.tar.gz").write_bytes(blob)
    (out / "logs.tar.gz").write_bytes(device.tar_bytes(sorted((logs or {}).items())))
    labs = [
        {"path": p, "name": Path(p).stem, "status": "finished"}
        for p in (files if finished is None else finished)
    ]
    packed = {"files": ["notebooks.tar.gz"], "sha256": hashlib.sha256(blob).hexdigest()}
    summary = {"profile": "full", "labs": labs, "notebooks": packed, "error": None}
    (out / "summary.json").write_text(json.dumps(summary))
    return out


def unpack(repo: Path, out: Path, *more: str) -> int:
    logs = str(repo / ".bundle" / "logs")
    return main(["gpu", "unpack", str(out), "--repo", str(repo), "--logs-dir", logs,
                 *more])  # fmt: skip


def test_unpack_restores_a_valid_executed_notebook_of_a_bundled_lab(repo, capsys):
    good = executed(["x = 1"])
    assert unpack(repo, returned(repo.parent / "OUT", {"labs/a.ipynb": good})) == 0
    assert (repo / "labs" / "a.ipynb").read_bytes() == good
    assert "1 notebook(s) restored" in capsys.readouterr().out


def test_unpack_writes_no_notebook_the_bundle_did_not_send(repo, capsys):
    evil = executed(["import os"])
    out = returned(
        repo.parent / "OUT", {"tests/evil.ipynb": evil, "labs/b.ipynb": evil}
    )
    before = (repo / "labs" / "b.ipynb").read_bytes()
    assert unpack(repo, out, "--force") == 1
    said = capsys.readouterr().out
    assert "refused: tests/evil.ipynb is not a lab of the bundle" in said
    assert "refused: labs/b.ipynb is not a lab of the bundle" in said
    assert not (repo / "tests" / "evil.ipynb").exists()
    assert (repo / "labs" / "b.ipynb").read_bytes() == before
    # an archive member no finished lab names is not written either
    out = returned(repo.parent / "OUT2", {"tests/evil.ipynb": evil}, finished=[])
    assert unpack(repo, out) == 1
    assert "ignored: tests/evil.ipynb in the archive" in capsys.readouterr().out
    assert not (repo / "tests" / "evil.ipynb").exists()


@pytest.mark.parametrize(
    "content, why",
    [
        (b'{"metadata": {"provenance": {"profile": "full"}}}', "not a notebook"),
        (executed([]), "not the code that was bundled"),  # a stub
        (executed(["x = 2"]), "not the code that was bundled"),
        (executed(["x = 1"], stamped_code="0" * 64), "stamped for other code"),
        (executed(["x = 1"], ran=False), "not fully executed (1 of 1 code cells)"),
        (executed(["x = 1"], profile="smoke"), "stamped 'smoke', not 'full'"),
        (nbformat.writes(new_notebook(cells=[new_code_cell("x = 1")])).encode(),
         "not stamped"),
    ],
    ids=["no-notebook", "stub", "other-code", "stale-stamp", "unexecuted",
         "other-profile", "unstamped"],
)  # fmt: skip
def test_unpack_refuses_a_returned_notebook_that_is_not_the_executed_lab(
    repo, capsys, content, why
):
    before = (repo / "labs" / "a.ipynb").read_bytes()
    out = returned(repo.parent / "OUT", {"labs/a.ipynb": content})
    assert unpack(repo, out) == 1
    said = capsys.readouterr().out
    assert f"refused: the returned notebook is {why}" in said, said
    assert (repo / "labs" / "a.ipynb").read_bytes() == before


def _entries(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (lambda out: (out / "summary.json").unlink(), "summary.json is missing"),
        (lambda out: (out / "summary.json").write_text("{oops"), "is not valid JSON"),
        (lambda out: (out / "summary.json").write_text('{"labs": 3}'),
         "is no run-labs summary"),
        (lambda out: (out / "notebooks.tar.gz").unlink(),
         "notebooks.tar.gz missing from"),
        (lambda out: (out / "notebooks.tar.gz").write_bytes(b"x"),
         "does not match its sum"),
    ],
    ids=["no-summary", "summary-not-json", "summary-not-a-summary", "missing-part",
         "tampered"],
)  # fmt: skip
def test_unpack_a_missing_or_broken_file_is_one_line_and_nothing_is_written(
    repo, capsys, break_it, expected
):
    out = returned(repo.parent / "OUT", {"labs/a.ipynb": executed(["x = 1"])},
                   logs={"logs/a.log": b"log of a"})  # fmt: skip
    break_it(out)
    before = _entries(repo)
    assert unpack(repo, out) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and expected in captured.err
    assert len(captured.err.splitlines()) == 1 and "Traceback" not in captured.err
    assert _entries(repo) == before  # no notebook, no log written


def test_unpack_without_the_bundles_manifest_says_where_it_looked(repo, capsys):
    (repo / ".bundle" / "manifest.json").unlink()
    out = returned(repo.parent / "OUT", {"labs/a.ipynb": executed(["x = 1"])})
    assert unpack(repo, out) == 2
    err = capsys.readouterr().err
    assert "manifest.json is missing" in err and "--bundle" in err


def test_unpack_writes_logs_only_as_the_bundled_labs_logs(repo, capsys):
    logs = {"logs/a.log": b"log of a", "logs/..": b"up", "logs/../../evil.log": b"x",
            "logs/b.log": b"not bundled"}  # fmt: skip
    out = returned(repo.parent / "OUT", {"labs/a.ipynb": executed(["x = 1"])},
                   logs=logs)  # fmt: skip
    outside = _entries(repo.parent)
    assert unpack(repo, out) == 0
    said = capsys.readouterr().out
    assert "ignored: 'logs/..' in logs.tar.gz: no lab's log" in said
    assert "ignored: 'logs/../../evil.log'" in said
    assert _entries(repo / ".bundle" / "logs") == ["a.log"]
    assert (repo / ".bundle" / "logs" / "a.log").read_bytes() == b"log of a"
    new = set(_entries(repo.parent)) - set(outside)
    assert all(n.startswith("here/") for n in new), new  # nothing outside the repo


def test_a_full_disk_during_unpack_leaves_the_lab_and_no_temporary_file(
    repo, capsys, full_disk
):
    before = snapshot(repo / "labs")
    out = returned(repo.parent / "OUT", {"labs/a.ipynb": executed(["x = 1"])})
    assert unpack(repo, out) == 1
    said = capsys.readouterr().out
    assert "not written (No space left" in said
    assert "labs/a.ipynb left as it was" in said
    assert snapshot(repo / "labs") == before  # the lab as it was, no .tmp beside it
