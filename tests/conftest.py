"""Fixtures shared by the unit tests."""

import pytest

from helpers import train


@pytest.fixture
def fits_on_the_cpu():
    """``train.fit_torch`` trains on the CPU (where a seed fixes the result), even on a
    machine with a GPU."""
    with train.fit_settings(device="cpu"):
        yield
