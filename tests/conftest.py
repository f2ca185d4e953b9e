"""Fixtures shared by the unit tests: fits on the CPU, a disk that fills up midway, and
a data folder laid out like the shared one."""

import contextlib
import errno
import hashlib
import os

import pytest

from helpers import train
from machinery import notebooks


@pytest.fixture
def fits_on_the_cpu():
    """``train.fit_torch`` trains on the CPU (where a seed fixes the result), even on a
    machine with a GPU."""
    with train.fit_settings(device="cpu"):
        yield


@pytest.fixture
def full_disk(monkeypatch):
    """Every all-or-nothing write of the machinery (:mod:`machinery.notebooks`) gets
    half its data onto the disk, then ENOSPC, as a full disk gives."""
    real = notebooks.atomic_write

    @contextlib.contextmanager
    def filling_up(dest, suffix):
        with real(dest, suffix) as out:

            class HalfWritten:
                def write(self, data):
                    out.write(data[: len(data) // 2])
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

                def __getattr__(self, name):
                    return getattr(out, name)

            yield HalfWritten()

    monkeypatch.setattr(notebooks, "atomic_write", filling_up)


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """Make ``tmp_path/data`` from {relative path: content}, with SHA256SUMS as the
    shared folder has; the cache is an empty ``tmp_path/cache``."""
    monkeypatch.setenv("LABS_CACHE_DIR", str(tmp_path / "cache"))

    def make(files: dict[str, bytes]):
        root = tmp_path / "data"
        for rel, content in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(content)
        (root / "SHA256SUMS").write_text(
            "".join(
                f"{hashlib.sha256(c).hexdigest()}  ./{r}\n" for r, c in files.items()
            )
        )
        return root

    return make
