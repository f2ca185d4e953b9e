"""The data layer's settings (environment variables) and where a file is, said without
the machine's folders.

* ``LABS_DATA_DIR``: a folder laid out like the project's shared data (optional);
* ``LABS_CACHE_DIR``: the download cache (unset: ``~/.cache/deep-learning-practicals``);
* ``LABS_OFFLINE``: 1/true/yes/on never downloads; 0/false/no/off (or unset) may.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import DataError

DATA_DIR_VAR = "LABS_DATA_DIR"
CACHE_DIR_VAR = "LABS_CACHE_DIR"
OFFLINE_VAR = "LABS_OFFLINE"
OFFLINE_ON = ("1", "true", "yes", "on")
OFFLINE_OFF = ("", "0", "false", "no", "off")
DEFAULT_CACHE = Path("~/.cache/deep-learning-practicals")
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
LAYOUT_HELP = "see 'Data folder layout' in helpers/samples/README.md"
DATA_DIR_PLACE = f"offline data folder ({DATA_DIR_VAR})"
CACHE_PLACE = f"cache ({CACHE_DIR_VAR})"
SAMPLES_PLACE = "package helpers/samples"


def data_dir() -> Path | None:
    """The folder named by ``LABS_DATA_DIR``, or None when unset; a missing folder
    (or a file, or a loop of links) is an error."""
    value = os.environ.get(DATA_DIR_VAR, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    try:
        if stat.S_ISDIR(path.stat().st_mode):
            return path
        what = f"{os.path.abspath(path)} is a file, not a folder"
    except (FileNotFoundError, NotADirectoryError):
        what = f"there is no folder {os.path.abspath(path)}"
    except OSError as e:
        what = (
            f"{os.path.abspath(path)} is a loop of symbolic links"
            if e.errno == errno.ELOOP
            else f"{os.path.abspath(path)} cannot be looked at ({e.strerror})"
        )
    raise DataError(
        f"{DATA_DIR_VAR}={value!r}, but {what}. Point "
        f"{DATA_DIR_VAR} at a folder laid out like the project's shared data "
        f"({LAYOUT_HELP}), or unset it to use the cache and downloads."
    )


def cache_dir() -> Path:
    """The download cache: ``LABS_CACHE_DIR`` or
    ``~/.cache/deep-learning-practicals``."""
    return Path(os.environ.get(CACHE_DIR_VAR, "").strip() or DEFAULT_CACHE).expanduser()


def usable_cache(sub: str | Path = "") -> Path:
    """The cache folder (or its subfolder ``sub``), created if need be; a DataError when
    it is a file or cannot be written (which no download can fix)."""
    folder = cache_dir() / sub
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # can we write there?
            pass
    except OSError as e:
        blocker = next(
            (p for p in (folder, *folder.parents) if _is_non_folder(p)),
            None,
        )
        why = (
            f"{blocker} is a file, not a folder"
            if blocker
            else f"it cannot be written ({type(e).__name__}: {e})"
        )
        raise DataError(
            f"The cache folder {folder} cannot be used: {why}. Point {CACHE_DIR_VAR} "
            "at a folder you can write to, or unset it (the default is "
            f"{DEFAULT_CACHE})."
        ) from e
    return folder


def _is_non_folder(path: Path) -> bool:
    """True when something other than a folder is at ``path``; False when a folder,
    nothing, or what cannot be looked at is."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


CACHE_ACCESS_FIX = (
    "Fix its permissions (chmod u+rwx, or ask its owner), or point "
    f"{CACHE_DIR_VAR} at a folder you can read and write."
)
DATA_DIR_ACCESS_FIX = (
    "Fix its permissions (chmod a+rx, or ask its owner), or point "
    f"{DATA_DIR_VAR} at a copy you can read (or unset it)."
)


def offline() -> bool:
    """True when ``LABS_OFFLINE`` is 1/true/yes/on: never try to download; False when
    it is unset or 0/false/no/off. Any other value is a DataError (a typo must not
    download)."""
    value = os.environ.get(OFFLINE_VAR, "")
    if value.strip().lower() in OFFLINE_ON:
        return True
    if value.strip().lower() in OFFLINE_OFF:
        return False
    raise DataError(
        f"{OFFLINE_VAR}={value!r} is not understood: set it to one of "
        f"{', '.join(OFFLINE_ON)} (never download) or {', '.join(OFFLINE_OFF[1:])} "
        "(download when needed), or unset it."
    )


def place_of(path: Path, roots: tuple[tuple[str, Path], ...] = ()) -> str:
    """Where ``path`` is, for a page: the named root it lies under and the path below
    it, never the machine's folders, e.g. ``"offline data folder (LABS_DATA_DIR):
    mnist/t10k-labels-idx1-ubyte.gz"``. ``roots`` adds ``(name, folder)`` pairs; a
    folder gets a trailing ``/``; a path under no root is named by its last part."""
    try:
        data = data_dir()
    except DataError:
        data = None
    named = [*roots, (CACHE_PLACE, cache_dir()), (SAMPLES_PLACE, SAMPLES_DIR)]
    named += [(DATA_DIR_PLACE, data)] if data else []
    target = Path(os.path.realpath(path))
    under = [
        (len(Path(os.path.realpath(root)).parts), label, Path(os.path.realpath(root)))
        for label, root in named
        if target.is_relative_to(os.path.realpath(root))
    ]
    if not under:
        return f"elsewhere: {target.name}"
    _, label, root = max(under, key=lambda u: u[0])  # the innermost root
    below = target.relative_to(root).as_posix()
    if below == ".":
        return label
    return f"{label}: {below}{'/' if target.is_dir() else ''}"
