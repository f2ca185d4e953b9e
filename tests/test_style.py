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
