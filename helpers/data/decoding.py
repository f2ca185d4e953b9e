"""Reading the data sets' files: one list of the errors a damaged file raises, turned
into a :class:`DataError` that names the file; archives read member by member; photos
decoded; labels checked. Shared by the loaders of :mod:`helpers.data`."""

from __future__ import annotations

import io
import json
import lzma
import pickle
import struct
import tarfile
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .. import profile as _profile
from .errors import DataError
from .sources import Found

ORDER_SEED = 0  # the fixed shuffle of sources stored sorted by class (CIFAR-10, IMDB)
DECODE_ERRORS = (  # what reading a damaged file, archive or archive member raises
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
    NotImplementedError,  # a zip compression method Python lacks (Deflate64...)
    RuntimeError,  # an encrypted zip member
    pickle.UnpicklingError,
    json.JSONDecodeError,
    struct.error,
    KeyError,
    ValueError,
)


def is_smoke(profile: str | None) -> bool:
    """True when ``profile`` (or, when None, the active profile) is ``smoke``."""
    name = _profile.current() if profile is None else _profile.validate(profile)
    return name == "smoke"


class Undecodable(ValueError):
    """A decoding failure whose message already says what is wrong (and where)."""


@contextmanager
def decoding(found: Found):
    """Turn any decoding failure (truncated gzip, bad tar, zip, pickle...) into
    a DataError.

    A file that matched its published checksum is the published file: deleting it would
    not help, so the message does not say to.
    """
    try:
        yield
    except DataError:
        raise
    except DECODE_ERRORS as e:
        fix = (
            "It matches its published checksum, so it is the published file, not a "
            "damaged copy, and deleting it would not help: the file as published is "
            "truncated or corrupt, or this code cannot read it. Please report this "
            "(helpers/data)."
            if found.verified
            else (
                "The file is truncated or corrupt. Delete it (or re-copy it) and load "
                "again."
            )
        )
        what = str(e) if isinstance(e, Undecodable) else f"{type(e).__name__}: {e}"
        raise DataError(
            f"Cannot decode {found.path} ({found.origin}): {what}\n{fix}"
        ) from e


def check_labels(
    x: np.ndarray, y: np.ndarray, n_classes: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as int64, and a DataError when images and labels disagree."""
    y = np.asarray(y, dtype=np.int64)
    if len(x) != len(y) or (len(y) and not 0 <= y.min() <= y.max() < n_classes):
        raise DataError(
            f"{what}: {len(x)} images but {len(y)} labels, or labels outside "
            f"0..{n_classes - 1}."
        )
    return x, y


def read_member(name: str, read, *args) -> bytes:
    """``read(*args)``: one member's bytes; a failure names the member."""
    try:
        return read(*args)
    except DECODE_ERRORS as e:
        raise Undecodable(
            f"cannot read its member {name} ({type(e).__name__}: {e})"
        ) from e


def archive_files(path: Path, wanted=lambda name: True):
    """Yield ``(member name, bytes)`` of the regular files of a tar (any compression)
    or zip.

    A tar cut inside a member's header would read as a shorter archive (tarfile stops
    there silently), so a tar must end with its end-of-archive block (zip has a
    central directory).
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.is_dir() and wanted(info.filename):
                    yield (
                        info.filename,
                        read_member(info.filename, z.read, info),
                    )
        return
    with tarfile.open(path, "r|*") as tar:  # streaming: one pass, no index
        for member in tar:
            if member.isfile() and wanted(member.name):
                read = tar.extractfile(member).read
                yield member.name, read_member(member.name, read)
        # tarfile stops at the first header it cannot read whole; the end-of-archive
        # block is the only whole one it stops at
        if tar.fileobj.tell() != tar.offset + tarfile.BLOCKSIZE:
            raise Undecodable(
                f"the archive ends inside a member's header at byte {tar.offset:,} "
                f"(after {len(tar.members):,} members): it is truncated"
            )


def decode_image(data: bytes, size: tuple[int, int] | None) -> np.ndarray:
    """Decode to RGB; with ``size`` (h, w), resize the short side and crop the centre
    (keeps aspect)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        if size:
            im.draft(
                "RGB", (size[1], size[0])
            )  # let the JPEG decoder shrink big photos (fast)
            return np.asarray(
                ImageOps.fit(im.convert("RGB"), (size[1], size[0]), Image.BILINEAR)
            )
        return np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def shuffled(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` in the fixed order ``ORDER_SEED`` draws."""
    order = np.random.default_rng(ORDER_SEED).permutation(len(x))
    return x[order], y[order]
