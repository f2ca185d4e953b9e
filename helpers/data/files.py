"""Files on disk: looking at them, hashing them, writing them all or nothing, and
sweeping what killed writers left behind."""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import DataError, DiskFull, disk_full

# A temporary file untouched this long was left by a killed process (a live download
# writes at least every few seconds), so the next run may remove it.
STALE_S = 30 * 60
ACCESS_FIX = "Check the permissions of that folder and of the folders above it."


def regular_file(path: Path, fix: str, access_fix: str = ACCESS_FIX) -> bool:
    """True when ``path`` is a file, False when nothing is there; a DataError when
    something else is (a folder, a device...), says what; ``fix`` says what to do. A
    path that cannot be looked at is a DataError that names the folder in the way and
    says ``access_fix``."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as e:
        raise DataError(cannot_look_at(path, e, access_fix)) from e
    if stat.S_ISREG(st.st_mode):
        return True
    what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
    raise DataError(f"{path} is {what}, where a data file should be. {fix}")


def cannot_look_at(path: Path, error: OSError, access_fix: str = ACCESS_FIX) -> str:
    """The message for a path that ``stat`` refused: a loop of links, or the first
    folder above it that cannot be entered."""
    if error.errno == errno.ELOOP:
        return (
            f"Cannot look at {path}: it goes through a loop of symbolic links "
            f"({error.strerror}). Fix or remove the link."
        )
    absolute = Path(os.path.abspath(path))
    blocked = next(
        (p for p in reversed(absolute.parents) if not os.access(p, os.X_OK)), None
    )
    where = f"; the folder {blocked} cannot be entered" if blocked else ""
    return (
        f"Cannot look at {path} ({type(error).__name__}: {error}){where}. {access_fix}"
    )


def file_stamp(path: Path) -> tuple:
    """What changes when a file is rewritten or replaced: device, inode, size,
    mtime, ctime.

    ctime cannot be set back by hand, and a replaced file has another inode, so a file
    swapped for one of the same size and modification time still gets another stamp.
    """
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


_hash_memo: dict[tuple, str] = {}


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """A file's SHA-256 (or another ``hashlib`` digest), remembered per path and
    :func:`file_stamp`; a DataError when the file cannot be read."""
    try:
        key = (str(path.resolve()), *file_stamp(path), algorithm)
        if key not in _hash_memo:
            digest = hashlib.new(algorithm)
            with open(path, "rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
            _hash_memo[key] = digest.hexdigest()
    except OSError as e:
        raise DataError(
            f"Cannot read {path} ({type(e).__name__}: {e}). Make it readable "
            f"(chmod a+r {path}) or replace it."
        ) from e
    return _hash_memo[key]


@contextmanager
def atomic_write(dest: Path, suffix: str = ".part"):
    """Write ``dest`` all or nothing: yields a binary file beside it, moved into place
    only when the ``with`` block ends without an exception; on any exception the partial
    file is removed and ``dest`` is left as it was (a reader sees the old file or the
    whole new one).

    A link is written through to its final target. The new file keeps the old one's
    mode (and, where permitted, owner); a new file gets ``0666`` less the umask. A full
    disk is a :class:`DiskFull` (an ``OSError`` too) that names the folder.
    """
    target = Path(os.path.realpath(dest))
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_partials(target, suffix)
        fd, tmp = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=suffix
        )
        with os.fdopen(fd, "wb") as out:
            _take_mode_and_owner(out.fileno(), target)
            yield out
        os.replace(tmp, target)
    except BaseException as e:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        if disk_full(e) and not isinstance(e, DiskFull):
            raise _disk_full(target) from e
        raise


def _disk_full(target: Path) -> DiskFull:
    return DiskFull(
        f"No space left on the disk that holds {target.parent} (writing "
        f"{target.name}); nothing was written. Free some space there, or write to "
        "a folder on another disk."
    )


def _take_mode_and_owner(fd: int, target: Path) -> None:
    """Give the file ``fd`` the mode and owner of ``target``, or, when there is none
    yet, the mode a new file gets (``0666`` less the umask)."""
    try:
        st = target.stat()
    except FileNotFoundError:
        os.fchmod(fd, 0o666 & ~umask())
        return
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except PermissionError:  # only root may give a file away
            pass


def umask() -> int:
    """This process's umask, read without changing it where the system allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and put back at once
    os.umask(mask)
    return mask


def sweep_stale(folder: Path, pattern: str) -> None:
    """Remove the files or folders in ``folder`` matching ``pattern`` that nothing has
    written to for ``STALE_S`` seconds: leftovers of killed processes. Live ones, and
    what cannot be looked at or removed, are left alone."""
    try:
        leftovers = list(folder.glob(pattern))
    except OSError:
        return
    for p in leftovers:
        try:
            newest = max(
                q.lstat().st_mtime for q in [p, *(p.rglob("*") if p.is_dir() else ())]
            )
            if time.time() - newest > STALE_S:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError:  # removed meanwhile by another process, or not ours to remove
            pass


def sweep_partials(dest: Path, suffix: str = ".part") -> None:
    """Sweep stale temporary files that :func:`atomic_write` left beside ``dest``
    (nothing when its folder cannot be looked at: whoever needs it says so)."""
    try:
        there = dest.parent.is_dir()
    except OSError:
        return
    if there:
        sweep_stale(dest.parent, f".{glob.escape(dest.name)}.*{suffix}")
