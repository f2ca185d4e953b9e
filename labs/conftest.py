"""pytest configuration for the labs: nbval executes every notebook in the
smoke profile.

Set at import time, so the notebook kernels (separate processes started by nbval)
inherit it; an explicit LABS_PROFILE in the environment wins.
"""

import os

os.environ.setdefault("LABS_PROFILE", "smoke")


def pytest_collection_modifyitems(items):
    """Every lab executed by nbval is slow: `pytest -m "not slow"` is the quick loop."""
    import pytest

    for item in items:
        if item.nodeid.startswith("labs/") or "/labs/" in item.nodeid:
            item.add_marker(pytest.mark.slow)
