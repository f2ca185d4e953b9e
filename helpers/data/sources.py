"""Where each data-set file comes from, and how it is found, verified and downloaded.

The loaders in :mod:`helpers.data` ask :func:`fetch` for a file. In the ``full`` profile
a file is looked for, in this order:

1. ``LABS_DATA_DIR``: a folder laid out like the project's shared data (``mnist/...``,
   ``cifar10/...``; see ``helpers/samples/README.md``);
2. the cache, ``LABS_CACHE_DIR`` (default ``~/.cache/deep-learning-practicals``),
   same layout;
3. a download from the canonical URL into the cache, unless ``LABS_OFFLINE=1``.

In the ``smoke`` profile the committed sample in ``helpers/samples/`` is used instead,
and nothing is downloaded.

Every file is checked against the SHA-256 values it accepts before it is used. Each
accepted value says where it comes from: the canonical upstream file (with the published
source of the value) or the known offline copy. A download is streamed to a temporary
file in the cache folder, checked, and only then renamed into place, so an interrupted
or wrong download leaves nothing behind (a killed one leaves a temporary file, removed
by a later run once stale). Every problem, a folder or an unreadable file where a data
file should be, a cache folder that cannot be written, is a :class:`DataError` that says
what happened and what to do.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

# Every name below is part of helpers.data.sources, where the loaders, the labs' tools
# and the machinery find them.
from .errors import DataError, DataUnavailable, DiskFull  # noqa: F401
from .files import (  # noqa: F401
    STALE_S,
    atomic_write,
    file_hash,
    file_stamp,
    regular_file,
    sweep_partials,
    sweep_stale,
)
from .registry import DATASETS, DataFile, DataSet, dataset  # noqa: F401
from .settings import (  # noqa: F401
    CACHE_ACCESS_FIX,
    CACHE_DIR_VAR,
    CACHE_PLACE,
    DATA_DIR_ACCESS_FIX,
    DATA_DIR_VAR,
    DEFAULT_CACHE,
    LAYOUT_HELP,
    OFFLINE_VAR,
    SAMPLES_DIR,
    cache_dir,
    data_dir,
    offline,
    place_of,
    usable_cache,
)

TIMEOUT_S = 60  # per network operation, not for the whole download
UNVERIFIED = "unverified (no published checksum)"
READ_LOG_VAR = "LABS_DATA_LOG"  # set by `provenance run`: the data files a lab read
_urlopen = urllib.request.urlopen  # tests replace this


@dataclass(frozen=True)
class Found:
    """A verified file: where it is, its format, and where it comes from (canonical,
    offline, ...)."""

    path: Path
    fmt: str
    origin: str

    @property
    def verified(self) -> bool:
        """True when the file matched a published (or recorded) checksum."""
        return self.origin != UNVERIFIED


# --- Verification ---------------------------------------------------------------------
def _expected(accepted: Mapping[str, str]) -> str:
    return "\n".join(f"  {h}  ({where})" for h, where in accepted.items())


def _log_read(path: Path, sha256: str) -> None:
    """Append ``sha256  path`` to the file ``LABS_DATA_LOG`` names; nothing when it
    is unset."""
    if log := os.environ.get(READ_LOG_VAR):
        with open(log, "a") as f:
            f.write(f"{sha256}  {Path(path).resolve()}\n")


def verify(path: Path, accepted: Mapping[str, str], fix: str) -> str:
    """Check ``path`` against the accepted hashes; return where the matching hash
    comes from. Without any, warn (naming the file by :func:`place_of`, as a page
    may show the warning) and return ``UNVERIFIED``."""
    if not accepted:
        warnings.warn(
            f"{place_of(path)} has no published SHA-256, so it is used unverified "
            f"(its SHA-256 is {file_hash(path)}).",
            stacklevel=3,
        )
        _log_read(path, file_hash(path))
        return UNVERIFIED
    got = file_hash(path)
    if got not in accepted:
        raise DataError(
            f"Checksum mismatch for {path}.\nExpected one of:\n{_expected(accepted)}\n"
            f"Got:\n  {got}\nThe file is incomplete, damaged or a different version. "
            f"{fix}"
        )
    _log_read(path, got)
    return accepted[got]


def _sample_sums() -> dict[str, str]:
    sums = SAMPLES_DIR / "SHA256SUMS"
    if not sums.is_file():
        raise DataError(
            f"{sums} is missing: reinstall the project or run "
            "tools/make_smoke_samples.py."
        )
    pairs = (
        line.split(None, 1) for line in sums.read_text().splitlines() if line.strip()
    )
    return {name.strip().lstrip("*").removeprefix("./"): h for h, name in pairs}


def _fetch_sample(name: str, entry: DataSet, role: str) -> Found:
    if role not in entry.samples:
        raise DataUnavailable(
            f"There is no committed smoke sample of {name!r}, and the smoke profile "
            "never downloads. Run with LABS_PROFILE=full (with internet access, or "
            f"{DATA_DIR_VAR} set to a folder laid out like the project's shared data: "
            f"{LAYOUT_HELP}), or pass profile='full'."
        )
    fname, fmt = entry.samples[role]
    path = SAMPLES_DIR / fname
    restore = (
        "Restore it with `git checkout -- helpers/samples` or rerun "
        "tools/make_smoke_samples.py."
    )
    if not regular_file(path, restore):
        raise DataError(f"The smoke sample {path} is missing. {restore}")
    sums = _sample_sums()
    accepted = (
        {sums[fname]: "smoke sample (helpers/samples/SHA256SUMS)"}
        if fname in sums
        else {}
    )
    if not accepted:
        raise DataError(
            f"{fname} is not listed in {SAMPLES_DIR / 'SHA256SUMS'}: "
            f"run tools/make_smoke_samples.py."
        )
    return Found(path, fmt, verify(path, accepted, restore))


# --- Finding and downloading ----------------------------------------------------------
_FIXES = {  # where a file is -> what to do with a bad one, with an unreadable one
    DATA_DIR_VAR: (
        "Re-copy it from the project's shared data, or delete it.",
        DATA_DIR_ACCESS_FIX,
    ),
    "cache": ("Delete it; it will be downloaded again.", CACHE_ACCESS_FIX),
}


def fetch(name: str, role: str | None = None, *, sample: bool = False) -> Found:
    """Find (or download) one verified file of data set ``name``; see the
    module docstring.

    ``role`` picks the file when a data set has several (``"train_images"``...);
    ``sample=True`` returns the committed smoke sample instead.
    """
    entry = dataset(name)
    role = role or next(iter(entry.files))
    if role not in entry.files:
        raise DataError(
            f"Data set {name!r} has no file {role!r}; it has {', '.join(entry.files)}."
        )
    if sample or entry.bundled:
        return _fetch_sample(name, entry, role)
    root = data_dir()
    places = ([(DATA_DIR_VAR, root)] if root else []) + [("cache", cache_dir())]
    looked = [] if root else [f"{DATA_DIR_VAR}: not set"]
    for f in entry.files[role]:
        for label, root in places:
            path = root / f.path
            if label == "cache":
                sweep_partials(path)
            fix, access_fix = _FIXES[label]
            if regular_file(path, fix, access_fix):
                return Found(path, f.fmt, verify(path, f.sha256, fix))
            looked.append(f"{label}: {path} (not there)")
    return _download_any(name, entry.files[role], looked)


def _download_any(name: str, files: tuple[DataFile, ...], looked: list[str]) -> Found:
    """Download the first file that has a URL and a published hash; explain
    every failure."""
    _check_cache(name, files, looked)
    tried, mismatch = [], False
    for f in files:
        dest = cache_dir() / f.path
        if why_not := _why_not_downloaded(f, dest):
            tried.append(why_not)
            continue
        _check_cache(name, files, looked, Path(f.path).parent)
        for url in f.urls:
            try:
                return Found(dest, f.fmt, download(url, dest, f.sha256))
            except DiskFull as e:  # no other mirror can help
                raise DiskFull(
                    f"Data set {name!r}: {e} The cache moves with {CACHE_DIR_VAR}."
                ) from e
            except DataError as e:
                mismatch = True
                tried.append(f"{url}: {e}")
                print("  failed: checksum mismatch, nothing kept", flush=True)
            except (OSError, ValueError, HTTPException) as e:  # URLError, timeouts
                tried.append(f"{url}: {type(e).__name__}: {e}")
                why = getattr(e, "reason", e)  # URLError: the reason alone
                print(f"  failed, not downloaded: {why}", flush=True)
    raise _nothing_usable(name, files[0], looked, tried, mismatch)


def _check_cache(name: str, files, looked: list[str], sub: str | Path = "") -> None:
    """A DataError when the cache cannot be written: that is then the problem, not
    the network."""
    try:
        usable_cache(sub)
    except DataError as e:
        raise DataError(
            f"Data set {name!r}: no copy of {files[0].path} was found, and none "
            "can be downloaded or placed in the cache.\nLooked in:\n"
            + "".join(f"  - {x}\n" for x in looked)
            + str(e)
        ) from e


def _why_not_downloaded(f: DataFile, dest: Path) -> str | None:
    """Why ``f`` is not downloaded (no URL, no published hash, downloads off), or
    None when it may be."""
    if not f.urls:
        return f"{f.path}: has no public download (only the offline copy)."
    if not f.sha256:
        return (
            f"{f.urls[0]}: not downloaded automatically, since no published "
            f"SHA-256 exists for it. Download it yourself and put it at {dest} (or "
            f"at ${DATA_DIR_VAR}/{f.path}); it will then be used, with a warning."
        )
    if offline():
        return f"{f.urls[0]}: not tried, downloads are off ({OFFLINE_VAR} is set)."
    return None


def _nothing_usable(name, first: DataFile, looked, tried, mismatch) -> DataError:
    """The error when no copy was found or downloaded: where it looked, what it
    tried, what to do."""
    cause = (
        "A download did not match its published checksum (see above): the server may "
        "serve a different file, or the transfer was corrupted. Try again later, or"
        if mismatch
        else "Connect to the internet, or"
    )
    return (DataError if mismatch else DataUnavailable)(
        f"Data set {name!r}: no usable copy of {first.path} was found.\nLooked in:\n"
        + "".join(f"  - {x}\n" for x in looked)
        + "Download:\n"
        + "".join(f"  - {x}\n" for x in tried)
        + f"{cause} set {DATA_DIR_VAR} to a folder laid out like the project's shared "
        f"data ({LAYOUT_HELP})."
    )


def download(url: str, dest: Path, accepted: Mapping[str, str]) -> str:
    """Stream ``url`` to a temporary file beside ``dest``, check its SHA-256, then move
    it into place.

    Returns where the matching hash comes from. On any failure (network
    error, interruption, mismatch, a full disk) the temporary file is removed and
    ``dest`` is left untouched. What it prints names ``dest`` by :func:`place_of`.
    """
    print(f"Downloading {url} to {place_of(dest)} ...", flush=True)
    with atomic_write(dest) as out:
        digest, size = hashlib.sha256(), 0
        with _urlopen(url, timeout=TIMEOUT_S) as response:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        got = digest.hexdigest()
        if got not in accepted:
            raise DataError(
                f"checksum mismatch: expected one of\n{_expected(accepted)}\n    got "
                f"{got} ({size:,} bytes); nothing was kept."
            )
    print(f"  done: {size / 1e6:.1f} MB, SHA-256 verified.", flush=True)
    _log_read(dest, got)
    return accepted[got]
