"""The Jupyter Book: every lab in the table of contents, and a real offline build."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from machinery import colab, notebooks

ROOT = notebooks.ROOT


def _toc_files():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    return [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


def test_book_labs_is_a_link_to_the_real_labs():
    link = ROOT / "book" / "labs"
    assert link.is_symlink() and link.resolve() == (ROOT / "labs").resolve()


def test_every_lab_is_in_the_toc_and_every_toc_lab_exists():
    listed = {f for f in _toc_files() if f.startswith("labs/")}
    assert listed == {f"labs/{p.stem}" for p in notebooks.lab_paths()}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    cli = shutil.which(
        "jupyter-book", path=str(Path(sys.executable).parent)
    ) or shutil.which("jupyter-book")
    result = subprocess.run(
        [cli, "build", "book/", "--path-output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html", result.stdout + result.stderr


@pytest.mark.slow
def test_build_executes_nothing_and_renders_every_lab(site):
    html, log = site
    assert "Executing" not in log
    for lab in notebooks.lab_paths():
        page = (html / "labs" / f"{lab.stem}.html").read_text()
        assert "**Provenance.**" not in page and "Provenance." in page
        assert "<img" in page, f"{lab.stem}: no figures rendered"


def test_every_lab_has_a_colab_button_to_its_real_notebook(site):
    html, _ = site
    url, branch = colab.repository()
    repo = url.removeprefix("https://github.com/")
    for lab in notebooks.lab_paths():
        page = (html / "labs" / f"{lab.stem}.html").read_text()
        assert (
            "https://colab.research.google.com/github/"
            f"{repo}/blob/{branch}/labs/{lab.name}" in page
        )


def test_model_code_is_shown_from_the_helpers(site):
    html, _ = site
    page = (html / "labs" / "permuted_mnist.html").read_text()
    assert "dense_mnist_net" in page and "literalinclude" not in page


def test_the_summary_page_shows_its_figure(site):
    html, log = site
    page = (html / "reproduction_summary.html").read_text()
    assert 'src="_images/reproduction_summary.png"' in page
    assert (html / "_images" / "reproduction_summary.png").is_file()
    warnings = [line for line in log.splitlines() if "WARNING" in line]
    assert not [w for w in warnings if "reproduction_summary" in w], warnings
