"""The small tables shipped whole in helpers/samples: Boston housing, Pima diabetes."""

from __future__ import annotations

import numpy as np

from .decoding import decoding
from .sources import fetch


def _read_csv(name: str) -> tuple[list[str], np.ndarray]:
    """The header and the values of data set ``name``'s CSV file."""
    found = fetch(name)
    with decoding(found):
        header = found.path.read_text().splitlines()[0].split(",")
        return header, np.loadtxt(found.path, delimiter=",", skiprows=1, ndmin=2)


def load_boston(*, profile: str | None = None):
    """Boston housing: ``x`` (506, 13) float64, ``y`` = ``medv`` (506,) float64,
    feature names.

    Shipped whole in helpers/samples (the same in both profiles).
    """
    header, values = _read_csv("boston")
    return values[:, :-1], values[:, -1], header[:-1]


def load_pima(*, profile: str | None = None):
    """Pima Indians diabetes: ``x`` (768, 8) float64 (zeros kept), ``y`` 0/1 int64,
    feature names."""
    header, values = _read_csv("pima")
    return values[:, :-1], values[:, -1].astype(np.int64), header[:-1]
