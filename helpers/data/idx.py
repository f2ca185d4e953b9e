"""MNIST, Fashion-MNIST and EMNIST letters: data sets stored as IDX files (gzipped),
and the letters a lab may render from fonts instead."""

from __future__ import annotations

import gzip
import math
import struct
import zipfile

import numpy as np

from .decoding import check_labels, decoding, is_smoke
from .errors import DataError, DataUnavailable
from .sources import fetch

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
LETTER_CLASSES = tuple(
    "abcdefghijklmnopqrstuvwxyz"
)  # EMNIST letters: upper and lower case merged


def parse_idx(raw: bytes, ndim: int, what: str = "IDX data") -> np.ndarray:
    """Parse an IDX file (the MNIST format): bytes 0 0 8 ``ndim``, ``ndim`` big-endian
    sizes, uint8 data."""
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:4] != bytes((0, 0, 8, ndim)):
        raise DataError(
            f"{what}: not an IDX file of {ndim}-D uint8 data (magic "
            f"{raw[:4].hex() or 'none'}, expected {bytes((0, 0, 8, ndim)).hex()})."
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) != header + math.prod(shape):
        raise DataError(
            f"{what}: the header says {shape}, i.e. {header + math.prod(shape):,} "
            f"bytes, but there are {len(raw):,}: the file is truncated or padded."
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape).copy()


def load_idx(name: str, profile: str | None):
    """Data set ``name``'s four IDX files: ``(x_train, y_train), (x_test, y_test)``."""
    smoke, arrays = is_smoke(profile), {}
    for role in ("train_images", "train_labels", "test_images", "test_labels"):
        found = fetch(name, role, sample=smoke)
        with decoding(found):
            raw = gzip.decompress(found.path.read_bytes())
        arrays[role] = parse_idx(
            raw, 3 if role.endswith("images") else 1, str(found.path)
        )
    return tuple(
        check_labels(arrays[f"{s}_images"], arrays[f"{s}_labels"], 10, f"{name} {s}")
        for s in ("train", "test")
    )


def load_mnist(*, profile: str | None = None):
    """MNIST digits: ``(x_train, y_train), (x_test, y_test)``, images (N, 28, 28) uint8,
    labels 0-9.

    Full: 60,000 + 10,000. Smoke: 2,000 + 500 (class-balanced,
    see helpers/samples/README.md).
    """
    return load_idx("mnist", profile)


def load_fashion_mnist(*, profile: str | None = None):
    """Fashion-MNIST, like :func:`load_mnist`; class names:
    ``FASHION_MNIST_CLASSES``."""
    return load_idx("fashion_mnist", profile)


# --- Letters --------------------------------------------------------------------------
def load_emnist_letters(*, profile: str | None = None):
    """EMNIST letters (canonical gzip.zip, 562 MB): images (N, 28, 28) uint8 upright,
    labels 0-25.

    124,800 + 20,800 images; label ``i`` is ``LETTER_CLASSES[i]`` (upper and lower case
    merged). No smoke sample: in the smoke profile this raises :class:`DataUnavailable`.
    """
    found = fetch("emnist", sample=is_smoke(profile))
    out = []
    with decoding(found), zipfile.ZipFile(found.path) as z:
        for s in ("train", "test"):
            x, y = (
                parse_idx(
                    gzip.decompress(
                        z.read(f"gzip/emnist-letters-{s}-{kind}-idx{n}-ubyte.gz")
                    ),
                    n,
                    f"EMNIST letters {s} {kind}",
                )
                for kind, n in (("images", 3), ("labels", 1))
            )
            # EMNIST stores images transposed, and letters as 1..26.
            out.append(
                check_labels(
                    x.transpose(0, 2, 1).copy(),
                    y.astype(np.int64) - 1,
                    26,
                    f"emnist {s}",
                )
            )
    return tuple(out)


def load_letters(
    source: str = "auto",
    *,
    n_train_per_class: int | None = None,
    n_test_per_class: int | None = None,
    seed: int = 0,
    fonts=None,
    profile: str | None = None,
):
    """Letters a-z as ``(x_train, y_train), (x_test, y_test), source`` (images (N,
    28, 28) uint8).

    ``source="emnist"``: EMNIST letters; ``"fonts"``: letters rendered from fonts
    (:func:`helpers.letters.render_letters`, seeds ``seed`` and ``seed + 1``; per class
    1,000 train + 200 test, 50 + 10 in smoke, unless given). ``fonts`` is passed on; by
    default the handwriting fonts (:func:`helpers.letters.fonts_for`: without them a
    ``cpu`` or ``full`` run is refused with the line that installs them). ``"auto"``:
    EMNIST when it can be had (never in smoke), else fonts, saying so; a damaged EMNIST
    copy is an error, not a reason to fall back. The returned ``source`` says which was
    used, so a lab can print it.
    """
    if source not in ("auto", "emnist", "fonts"):
        raise ValueError(f"source={source!r}; use 'auto', 'emnist' or 'fonts'.")
    if source != "fonts":
        try:
            return (*load_emnist_letters(profile=profile), "emnist")
        except DataUnavailable:
            if source == "emnist":
                raise
            if not is_smoke(profile):
                print("EMNIST letters unavailable: letters rendered from fonts instead")
    from .. import letters  # lazily: rendering needs fonts and is only needed here
    from .. import profile as profiles

    smoke = is_smoke(profile)
    if fonts is None:
        fonts = letters.fonts_for(profiles.current() if profile is None else profile)
    counts = (
        n_train_per_class or (50 if smoke else 1000),
        n_test_per_class or (10 if smoke else 200),
    )
    sets = [
        letters.render_letters(n_per_class=n, seed=seed + i, fonts=fonts)
        for i, n in enumerate(counts)
    ]
    return (
        *(
            check_labels(np.asarray(x, np.uint8), y, 26, "fonts letters")
            for x, y in sets
        ),
        "fonts",
    )
