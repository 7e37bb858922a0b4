"""Atomic writes: a file (temporary file beside the target, fsync, rename) or a whole directory
(a staging directory beside it, renamed into place)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never a part."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, atomically (temporary file, fsync, rename).

    A symlink is followed (its target is replaced, the link kept); an existing path that is not a
    regular file (a FIFO, a device, a socket) is refused with a BabelirError."""
    path = writable_target(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the user's path, not the temporary file's
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    try:
        # mkstemp makes the file private (0600); give it the mode of the file it replaces, else 0644
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def writable_target(path: str | Path) -> Path:
    """The file an atomic write of ``path`` replaces: ``path``, or a symlink's resolved target (a
    link that points to nothing yet, here or among the parents, is followed: its target is made).

    Raises a BabelirError when ``path`` (followed) exists and is not a regular file: renaming over
    a FIFO, a device or a socket would replace it with a file instead of writing to it; and on a
    symlink loop."""
    import stat

    from babelir.errors import BabelirError

    check_no_loop(path)
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError:
        mode = None  # unreadable: the write itself reports it, naming the path
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise BabelirError(f"{path}: not a regular file; give a file name")
    above = file_above(path)
    if above is not None:
        raise BabelirError(f"{above}: not a directory")
    if path.is_symlink():
        return Path(os.path.realpath(path))
    return through_links(path)


def check_no_loop(path: str | Path) -> None:
    """Raise a BabelirError naming the first part of ``path`` that is a symlink loop (``LA`` of
    ``LA/x.run`` where ``LA`` → ``LB`` → ``LA``); ``os.path.realpath`` would not notice."""
    import errno

    from babelir.errors import BabelirError

    path = Path(path)
    try:
        os.stat(path)
        return
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return
    for part in (*reversed(path.parents), path):
        try:
            os.stat(part)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise BabelirError(f"{part}: a symlink loop") from None
    raise BabelirError(f"{path}: a symlink loop")


def through_links(path: str | Path, _depth: int = 0) -> Path:
    """``path`` with each symlink in it that points to nothing yet (``path`` itself or a parent)
    replaced by the path it points to, so that creating the result creates the link's target:
    ``link/ix`` with ``link`` → ``nowhere`` is ``nowhere/ix``. Links to existing paths are kept."""
    from babelir.errors import BabelirError

    path = Path(path)
    if _depth > 40:
        raise BabelirError(f"{path}: a symlink loop")
    current, parts = (Path(path.anchor), path.parts[1:]) if path.anchor else (Path(), path.parts)
    for part in parts:
        current = current / part
        if os.path.islink(current) and not os.path.exists(current):
            # relative to the link's directory; an absolute target replaces the whole path
            current = through_links(current.parent / os.readlink(current), _depth + 1)
    return current


def file_above(path: str | Path) -> Path | None:
    """The nearest existing parent of ``path`` when it is not a directory (``existing.run`` of
    ``existing.run/sub.run``), else None. A link that points to nothing is followed: ``lnk/x.run``
    with ``lnk`` → ``afile/sub`` names ``afile``."""
    for parent in through_links(path).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def atomic_save_npy(path: str | Path, array) -> None:
    """Write a numpy array as ``.npy``, atomically (serialised in memory: for chunk-sized arrays)."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a staging directory beside ``path``; when the block ends without error, it replaces
    ``path``. An error (or an interruption) leaves ``path`` as it was and removes the staging."""
    import shutil

    path = writable_target(path)  # a symlink: its target is replaced, the link kept
    staging = path.with_name(path.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if path.exists():
        shutil.rmtree(path)
    staging.rename(path)
