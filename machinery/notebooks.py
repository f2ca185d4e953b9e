"""Notebook files: read and write them (atomically, keeping their mode), lock one while
it is executed, hash its code, find the labs.

The machinery's one reader and writer of notebooks (the GPU machine's side, which has
no nbformat before its wheels are in, reads their JSON itself); :mod:`nbformat` is
imported when first needed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from helpers.data.sources import atomic_write

from . import ROOT, MachineryError

LABS = ROOT / "labs"
METADATA_KEY = "provenance"  # where a notebook's stamp lives in its metadata


def read(path):
    """The notebook at ``path`` (nbformat v4); a clear :class:`MachineryError` if it
    is not one."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        what = "a folder, not a notebook" if path.is_dir() else "no such file"
        raise MachineryError(f"{path}: {what}")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as e:  # invalid JSON, JSON that is no notebook, binary data...
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise MachineryError(
            f"{path} is not a Jupyter notebook ({type(e).__name__}: {first})"
        ) from None


def stored_stamp(path) -> dict | None:
    """The provenance stamp stored in the notebook at ``path`` (None if it has none or
    is no notebook)."""
    try:
        return read(path).metadata.get(METADATA_KEY) or None
    except MachineryError:
        return None


def notebook_files(names) -> list[Path]:
    """The notebooks ``names`` mean (a folder: every ``*.ipynb`` in it, sorted), each
    once: a path given twice, or also through its folder, counts once."""
    paths, seen = [], set()
    for name in map(Path, names):
        found = sorted(name.glob("*.ipynb")) if name.is_dir() else [name]
        if not found:
            raise MachineryError(f"{name}: a folder without notebooks")
        for path in found:
            if path.resolve() not in seen:
                seen.add(path.resolve())
                paths.append(path)
    return paths


def notebook_paths(names) -> list[Path]:
    """:func:`notebook_files`, each read once so that a missing or broken one is
    reported before anything runs."""
    paths = notebook_files(names)
    for path in paths:
        read(path)
    return paths


def lab_paths() -> list[Path]:
    """Every lab notebook, sorted."""
    return sorted(LABS.glob("*.ipynb"))


def write(nb, path) -> None:
    """Write ``nb`` to ``path`` all or nothing (:func:`write_bytes`)."""
    import nbformat

    text = nbformat.writes(nb)
    write_bytes((text if text.endswith("\n") else text + "\n").encode(), path)


def write_bytes(data: bytes, path) -> None:
    """Write ``data`` to ``path`` all or nothing (a temporary file beside it, then
    ``os.replace``; through a link to its target, keeping the file's mode and owner):
    a failure midway, such as a full disk, leaves the old file as it was and no
    temporary file."""
    with atomic_write(Path(path), suffix=".tmp") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def fingerprint(path) -> str | None:
    """The SHA-256 of the file at ``path`` as it is now (None if there is none): what
    tells whether it changed meanwhile."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def beside(path, tag: str) -> Path:
    """A free name beside ``path`` for a copy: ``x.TAG.ipynb``, else ``x.TAG-2.ipynb``,
    ``x.TAG-3.ipynb``, ..."""
    path = Path(path)
    candidate, n = path.with_name(f"{path.stem}.{tag}{path.suffix}"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{tag}-{n}{path.suffix}")
    return candidate


def check_writable(path: Path) -> None:
    """Raise :class:`MachineryError` unless ``path`` and its folder can be written.

    Tried for real (the notebook opened for appending, a temporary file made in
    its folder, nothing changed), since ``os.access`` answers yes to root whatever
    the permissions.
    """
    attempts = (
        (str(path), lambda: open(path, "ab")),
        (f"the folder {path.parent}", lambda: tempfile.TemporaryFile(dir=path.parent)),
    )
    for target, attempt in attempts:
        try:
            attempt().close()
        except OSError as e:
            raise MachineryError(
                f"{target} cannot be written ({e.strerror}), so {path} was not "
                "executed; make it writable."
            ) from None


def lock_path(path) -> Path:
    """The lock file of the notebook at ``path``: in the temp folder, named after its
    absolute path, so nothing is ever left beside the labs."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"labs-provenance-{key}.lock"


@contextmanager
def exclusive(path):
    """Hold the lock that lets one process at a time execute the notebook at ``path``.

    An ``flock`` on :func:`lock_path`, removed when released. The system drops the lock
    when its holder exits, even when killed, so a stale lock never blocks.
    :class:`MachineryError` if another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    lock = lock_path(path)
    while True:
        f = _open_lock(lock)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            f.close()
            raise MachineryError(
                f"{path} is already being executed (process {holder}, lock {lock}); "
                "wait for it to finish."
            ) from None
        if lock.exists() and lock.stat().st_ino == os.fstat(f.fileno()).st_ino:
            break
        f.close()  # its last holder removed that file meanwhile: lock the new one
    try:
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        yield
    finally:
        lock.unlink(missing_ok=True)  # removed while still held, then released
        f.close()


def _open_lock(lock: Path):
    """The lock file, opened to be locked; a clear error when it cannot be (another
    user's lock, an unwritable temp folder)."""
    try:
        return open(lock, "a+")
    except OSError as e:
        raise MachineryError(
            f"cannot open the lock {lock} ({e.strerror}): another user may be "
            "executing this notebook, or the temp folder is not writable; wait, or "
            "remove the lock if no one is (or set TMPDIR to a folder of yours)."
        ) from None


def code_sources(nb) -> list[str]:
    """The source of every non-empty code cell, in order."""
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def code_hash(nb) -> str:
    """SHA-256 over the code cells (trailing whitespace ignored): changes when the
    code changes."""
    digest = hashlib.sha256()
    for source in code_sources(nb):
        normalised = "\n".join(line.rstrip() for line in source.strip().splitlines())
        digest.update(normalised.encode() + b"\0")
    return digest.hexdigest()
