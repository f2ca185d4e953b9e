"""One formatter and linter (ruff, configured in pyproject.toml) for helpers,
machinery, tests and tools."""

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
