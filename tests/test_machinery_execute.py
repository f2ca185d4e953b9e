"""Executing a notebook with provenance, and detecting outputs that cannot
be trusted."""

import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from machinery import MachineryError, check, colab, notebooks, runner, stamp
from machinery.__main__ import main


def _notebook(*sources):
    cells = [new_markdown_cell("# A tiny lab")] + [new_code_cell(s) for s in sources]
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
        },
    )


def test_code_hash_follows_code_not_prose_or_trailing_space():
    nb = _notebook("x = 1\nprint(x)")
    base = notebooks.code_hash(nb)
    nb.cells.append(new_markdown_cell("more prose"))
    nb.cells[1].source = "x = 1   \nprint(x)\n"
    assert notebooks.code_hash(nb) == base
    nb.cells[1].source = "x = 2\nprint(x)"
    assert notebooks.code_hash(nb) != base


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """A notebook executed by the runner in the smoke profile (one kernel start for
    the module)."""
    path = tmp_path_factory.mktemp("lab") / "tiny.ipynb"
    nbformat.write(
        _notebook(
            "import os\nprint('profile', os.environ['LABS_PROFILE'], os.getcwd())"
        ),
        path,
    )
    record = runner.run(path, profile="smoke", timeout=120)
    return path, record


def test_run_stores_outputs_and_provenance(executed):
    path, record = executed
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["provenance"] == record
    assert record["profile"] == "smoke"
    assert record["device"].startswith(("CPU: ", "GPU: "))
    assert {"python", "keras", "numpy", "torch"} <= set(record["versions"])
    assert record["code_sha256"] == notebooks.code_hash(nb)
    assert record["helpers_sha256"] == stamp.helpers_hash()
    assert record["data_files"] == []  # it read none
    assert (
        record["time_split_s"]["sections"][0]["heading"] == "(before the first section)"
    )
    assert record["wall_time_s"] > 0
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert (
        f"profile smoke {path.parent}" in printed
    )  # the profile reached the kernel; cwd = the lab's folder


def test_run_puts_the_note_under_the_title_and_the_colab_cell_first(executed):
    nb = nbformat.read(executed[0], as_version=4)
    assert nb.cells[0].source == "# A tiny lab"
    assert (
        nb.cells[1].cell_type == "markdown" and "**Provenance.**" in nb.cells[1].source
    )
    assert "`smoke` profile" in nb.cells[1].source
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source == colab.colab_cell_source()
    assert check.problems(executed[0]) == []


def test_rerun_replaces_the_note_rather_than_adding_one(executed, tmp_path):
    path = tmp_path / "again.ipynb"
    path.write_bytes(executed[0].read_bytes())
    runner.run(path, profile="smoke", timeout=120)
    nb = nbformat.read(path, as_version=4)
    assert sum("**Provenance.**" in c.source for c in nb.cells) == 1
    assert sum(c.source == colab.colab_cell_source() for c in nb.cells) == 1


@pytest.mark.parametrize(
    "spoil, expected",
    [
        (
            lambda nb: setattr(
                nb.cells[-1], "source", nb.cells[-1].source + "\nprint(2)"
            ),
            "stale outputs",
        ),
        (
            lambda nb: nb.cells[-1].__setitem__("execution_count", None),
            "never executed",
        ),
        (lambda nb: nb.metadata.pop("provenance"), "no provenance"),
        (
            lambda nb: nb.cells[-1].outputs.append(
                nbformat.v4.new_output(
                    "error", ename="ValueError", evalue="", traceback=[]
                )
            ),
            "ValueError",
        ),
        (
            lambda nb: setattr(
                next(c for c in nb.cells if c.cell_type == "code"), "source", "pass"
            ),
            "Colab cell",
        ),
        (
            lambda nb: setattr(
                nb.cells[-1].outputs[0], "text", "profile full (edited)\n"
            ),
            "outputs edited after the run",
        ),
    ],
)
def test_problems_names_each_kind_of_untrustworthy_output(
    executed, tmp_path, spoil, expected
):
    nb = nbformat.read(executed[0], as_version=4)
    spoil(nb)
    path = tmp_path / "spoilt.ipynb"
    nbformat.write(nb, path)
    assert any(expected in p for p in check.problems(path))
    assert main(["check", str(path)]) == 1


def test_the_stamp_hashes_the_outputs_as_written(executed):
    nb = nbformat.read(executed[0], as_version=4)
    record = nb.metadata["provenance"]
    assert record["outputs_sha256"] == stamp.outputs_hash(nb)
    assert f"outputs SHA-256 `{record['outputs_sha256'][:12]}`" in nb.cells[1].source
    assert main(["check", str(executed[0])]) == 0


def test_outputs_hash_reads_lines_as_one_text_and_sees_any_change(executed):
    import copy

    nb = nbformat.read(executed[0], as_version=4)
    base = stamp.outputs_hash(nb)
    as_lines = copy.deepcopy(nb)
    text = as_lines.cells[-1].outputs[0].text
    as_lines.cells[-1].outputs[0].text = text.splitlines(keepends=True)
    assert stamp.outputs_hash(as_lines) == base
    nb.cells.insert(2, new_code_cell("never run"))  # no outputs: nothing to hash
    assert stamp.outputs_hash(nb) == base
    nb.cells[-1].outputs[0].text = text.replace("smoke", "cpu")
    assert stamp.outputs_hash(nb) != base
    nb.cells[-1].outputs = []
    assert stamp.outputs_hash(nb) != base


def test_a_page_stamped_before_output_hashes_gets_a_note_not_a_problem(
    executed, tmp_path, capsys
):
    nb = nbformat.read(executed[0], as_version=4)
    del nb.metadata["provenance"]["outputs_sha256"]
    nb.cells[-1].outputs[0].text = "edited, but nothing can tell\n"
    path = tmp_path / "old.ipynb"
    nbformat.write(nb, path)
    assert check.problems(path) == []
    assert check.notes(path) == [
        "stamped before output hashes; re-execute to make it tamper-evident"
    ]
    assert main(["check", str(path)]) == 0
    assert "note: stamped before output hashes" in capsys.readouterr().out


def test_colab_cell_installs_from_the_configured_repository_only_in_colab():
    import yaml

    config = yaml.safe_load((notebooks.ROOT / "_config.yml").read_text())
    source = colab.colab_cell_source()
    assert (
        f"git+{config['repository']['url']}@{config['repository']['branch']}" in source
    )
    assert 'if "google.colab" in sys.modules:' in source
    exec(
        compile(source, "colab-cell", "exec"), {}
    )  # outside Colab it must do nothing (no pip call)


def test_coalesce_streams_keeps_what_a_live_notebook_shows():
    from nbformat.v4 import new_output

    outputs = [
        new_output("stream", name="stdout", text="\rbar 0%"),
        new_output("stream", name="stdout", text="\rbar 50%"),
        new_output("stream", name="stdout", text="\rbar 100%\nnext line\r\n"),
        new_output("stream", name="stderr", text="warn\n"),
        new_output("stream", name="stdout", text="end\n"),
    ]
    merged = runner.coalesce_streams(outputs)
    assert [(o.name, o.text) for o in merged] == [
        ("stdout", "bar 100%\nnext line\n"),
        ("stderr", "warn\n"),
        ("stdout", "end\n"),
    ]


@pytest.mark.slow
def test_kernels_import_this_checkouts_helpers(tmp_path):
    path = tmp_path / "where.ipynb"
    nbformat.write(_notebook("import helpers\nprint(helpers.__file__)"), path)
    runner.run(path, profile="smoke", timeout=120)
    printed = nbformat.read(path, as_version=4).cells[-1].outputs[0].text
    assert printed.strip() == str(notebooks.ROOT / "helpers" / "__init__.py")


@pytest.mark.slow
def test_tensorflow_warnings_stay_out_of_stored_outputs(tmp_path):
    """In Jupyter, TensorFlow logs warnings such as "triggered tf.function retracing"
    to stdout whenever fresh models predict in a loop; the helpers keep them out of
    the page."""
    path = tmp_path / "quiet.ipynb"
    nbformat.write(
        _notebook(
            "from helpers import models_keras\nimport numpy as np\n"
            "for _ in range(8):\n"
            "    models_keras.dense_mnist_net()"
            ".predict(np.zeros((2, 28, 28, 1)), verbose=0)\n"
            "print('done')"
        ),
        path,
    )
    runner.run(path, profile="smoke", timeout=120)
    outputs = nbformat.read(path, as_version=4).cells[-1].outputs
    assert [o.get("text") for o in outputs] == ["done\n"]


def test_a_linked_notebook_is_written_through_keeping_owner_and_mode(tmp_path):
    """The stamp reaches the real notebook, not a regular file put in the link's place;
    a notebook executed by root stays its owner's, with its mode."""
    real = tmp_path / "real" / "lab.ipynb"
    real.parent.mkdir()
    nbformat.write(_notebook("x = 1"), real)
    os.chmod(real, 0o640)
    if os.geteuid() == 0:
        os.chown(real, 65534, 65534)
    link = tmp_path / "lab.ipynb"
    link.symlink_to(real)
    nb = notebooks.read(link)
    nb.metadata["provenance"] = {"profile": "smoke"}
    notebooks.write(nb, link)
    assert link.is_symlink()
    assert notebooks.read(real).metadata["provenance"] == {"profile": "smoke"}
    assert real.stat().st_mode & 0o777 == 0o640
    if os.geteuid() == 0:
        assert (real.stat().st_uid, real.stat().st_gid) == (65534, 65534)


def test_a_lock_that_cannot_be_opened_is_one_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "lab.ipynb"
    nbformat.write(_notebook("x = 1"), path)
    lock = notebooks.lock_path(path)
    lock.mkdir()  # as another user's lock would, it cannot be opened for writing
    try:
        with pytest.raises(MachineryError, match="cannot open the lock"):
            with notebooks.exclusive(path):
                pass
    finally:
        lock.rmdir()
