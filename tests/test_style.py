"""One formatter and linter (ruff, configured in pyproject.toml) for helpers,
machinery, tests and tools."""

import ast
import shutil
import subprocess

import pytest

from machinery import notebooks

PATHS = ["helpers", "machinery", "tests", "tools", "conftest.py", "labs/conftest.py"]
RUFF = shutil.which("ruff")


@pytest.mark.parametrize(
    "command", [["format", "--check"], ["check"]], ids=["format", "lint"]
)
def test_ruff_passes(command):
    assert RUFF, "ruff is not installed: pip install -r requirements.txt"
    result = subprocess.run(
        [RUFF, *command, *PATHS], cwd=notebooks.ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


# The labs re-executed under ruff (labs/ruff.toml: the project's rules plus what a
# notebook needs). The CNN labs join when issue 26 edits and re-executes them: a
# reformatted code cell is a changed page that needs its re-execution.
LABS_UNDER_RUFF = [
    "keras_basics",
    "transfer_small_data",
    "transfer_imagenet",
    "filter_visualisation",
    "tsne",
    "permuted_mnist",
    "cnns_pytorch",
    "augmentation_ablation",
    "cnns_keras",
]
LONGEST_CELL = 20


@pytest.mark.parametrize(
    "command", [["format", "--check"], ["check"]], ids=["format", "lint"]
)
@pytest.mark.parametrize("lab", LABS_UNDER_RUFF)
def test_ruff_passes_on_the_labs(command, lab):
    assert RUFF, "ruff is not installed: pip install -r requirements.txt"
    path = f"labs/{lab}.ipynb"
    result = subprocess.run(
        [RUFF, *command, path], cwd=notebooks.ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("lab", LABS_UNDER_RUFF)
def test_no_lab_code_cell_is_longer_than_twenty_lines(lab):
    notebook = notebooks.read(notebooks.ROOT / "labs" / f"{lab}.ipynb")
    long = [
        (index, len(cell.source.splitlines()))
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and len(cell.source.splitlines()) > LONGEST_CELL
    ]
    assert long == [], f"code cells (index, lines) over {LONGEST_CELL} lines: {long}"


@pytest.mark.parametrize("lab", LABS_UNDER_RUFF)
def test_lab_lines_fit_the_line_length_but_the_colab_cell(lab):
    notebook = notebooks.read(notebooks.ROOT / "labs" / f"{lab}.ipynb")
    wide = [
        (index, line[:40])
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and "colab-setup" not in cell.metadata.get("tags", [])
        for line in cell.source.splitlines()
        if len(line) > 88
    ]
    assert wide == [], f"code lines over 88 characters (cell, start): {wide}"


def test_the_labs_library_never_imports_the_machinery():
    """helpers/ is what a notebook imports and Colab installs: it may not need the
    book's machinery (ARCHITECTURE.md)."""
    found = []
    for path in sorted((notebooks.ROOT / "helpers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            else:
                continue
            if any(n.split(".")[0] in ("machinery", "provenance") for n in names):
                found.append(f"{path.relative_to(notebooks.ROOT)}:{node.lineno}")
    assert found == []
