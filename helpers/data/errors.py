"""The data layer's errors: each message says what happened and what to do."""

from __future__ import annotations

import errno


class DataError(RuntimeError):
    """A data set cannot be used; the message says why and what to do."""


class DataUnavailable(DataError):
    """The data set is not on this machine and cannot be downloaded (or may not be)."""


class DiskFull(DataError, OSError):
    """A write ran out of disk space (or quota). Also an :class:`OSError` (errno
    ENOSPC), so code that handles failed writes handles this one too."""

    def __init__(self, message: str):
        super().__init__(message)
        self.errno = errno.ENOSPC


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def disk_full(error: BaseException | None) -> bool:
    """True when ``error``, or an error it was raised from, is a full disk."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFull) or (
            isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS
        ):
            return True
        error = error.__cause__ or error.__context__
    return False
