"""One writer at a time per index directory, and storage failures as one-line errors.

:class:`WriterLock` is an advisory lock (``flock``) on ``INDEX/writer.lock``. Every write to an
index (add, delete, adding vectors, creating it) holds it; the operating system releases it when
the process ends, even by SIGKILL, so a killed writer never leaves a stale lock. A process that
finds it taken either waits (``wait`` seconds) or stops with :class:`IndexBusy`.

:func:`storage_errors` turns what the storage layers raise when the disk is full or the directory
cannot be written (``sqlite3.OperationalError``, ``OSError``, a storage ``ValueError``) into a
:class:`~babelir.errors.BabelirError` that names the index; the last commit stays intact, since
nothing is committed before every part of the batch is written.
"""

from __future__ import annotations

import errno
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babelir.errors import BabelirError

LOCK = "writer.lock"
CREATING = "creating.babelir"  # present while a new index is being set up (see Index.create)


class IndexBusy(BabelirError):
    """Another process holds the index's writer lock."""


class WriterLock:
    """The writer lock of the index in ``directory`` (not re-entrant: count holds yourself)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait`` seconds for another writer to finish.

        Raises :class:`IndexBusy` when it is still taken after ``wait``, and a BabelirError when
        the lock file cannot be created (a read-only directory)."""
        if self._fd is not None:
            return
        try:
            fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BabelirError(f"{self.directory}: cannot write to the index directory "
                               f"({exc.strerror or exc})") from None
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            if _try_lock(fd):
                self._fd = fd
                _watch_forks()
                _HELD.add(self)
                return
            if time.monotonic() >= deadline:
                os.close(fd)
                raise IndexBusy(f"{self.directory}: another process is writing this index "
                                f"(wait for it to finish, or pass --wait SECONDS)")
            time.sleep(0.1)

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None
        _HELD.discard(self)


_HELD: "weakref.WeakSet[WriterLock]" = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child (analysis workers, :mod:`babelir.index.parallel`): close the locks the
    parent holds. A flock belongs to the open file, which a fork shares: a child that kept it
    open would hold the parent's lock after the parent died (a killed build's re-run would find
    the index busy)."""
    for lock in list(_HELD):
        if lock._fd is not None:
            try:
                os.close(lock._fd)  # closing the child's copy leaves the parent's lock held
            except OSError:
                pass
            lock._fd = None
    _HELD.clear()


_watching = False


def _watch_forks() -> None:
    """Register :func:`_forget_in_child` once, when a first lock is taken (not at import)."""
    global _watching
    if not _watching and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_in_child)
        _watching = True


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks a byte range instead
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_UN)


_FULL = ("disk is full", "no space left", "file too large", "disk i/o error")
_READ_ONLY = ("readonly database", "read-only", "permission denied", "unable to open database")


@contextmanager
def storage_errors(directory: Path) -> Iterator[None]:
    """Re-raise a storage failure inside the block as a one-line BabelirError naming ``directory``."""
    import sqlite3

    try:
        yield
    except BabelirError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise BabelirError(f"{directory}: no space left to write the index ({exc.strerror}); "
                               f"the last commit is kept, free some space and re-run to resume") from None
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and _inside(exc.filename, directory):
            raise BabelirError(f"{directory}: cannot write to the index directory ({exc.strerror})") from None
        raise
    except (sqlite3.OperationalError, sqlite3.DatabaseError, ValueError) as exc:
        message = str(exc).lower()
        if isinstance(exc, ValueError) and not any(k in message for k in _FULL + _READ_ONLY + ("io error", "lock")):
            raise  # a ValueError of ours, not the storage's
        if any(k in message for k in _FULL) or "io error" in message:
            raise BabelirError(f"{directory}: could not write the index ({exc}); the disk may be full; "
                               f"the last commit is kept, free some space and re-run to resume") from None
        if any(k in message for k in _READ_ONLY):
            raise BabelirError(f"{directory}: cannot write to the index ({exc}); "
                               f"is the directory read-only?") from None
        if "lock" in message:
            raise IndexBusy(f"{directory}: another process is writing this index ({exc})") from None
        raise BabelirError(f"{directory}: the index store failed ({exc})") from None


def _inside(filename, directory: Path) -> bool:
    """Whether an error's file is in the index directory (or unnamed): an unreadable corpus is
    the corpus's error, not the index's."""
    if filename is None:
        return True
    try:
        return Path(os.fsdecode(filename)).resolve().is_relative_to(Path(directory).resolve())
    except (OSError, ValueError):
        return False
