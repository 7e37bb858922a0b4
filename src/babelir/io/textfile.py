"""Line-by-line reading of text files, gzip transparently, with strict UTF-8.

``open_lines(path)`` yields ``(line number, line)`` with the line ending removed. A line that is
not valid UTF-8 raises an :class:`InputError` naming the file and line (a UTF-16 file is named as
such); so do a file that cannot be opened or read (missing, a directory, no permission, an I/O error) and a damaged or truncated gzip
stream. The file is read once, so a pipe, ``/dev/stdin`` or ``-`` (standard input) can be read.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

from babelir.errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"


def _open_binary(path: Path):
    """The file opened once (a pipe, ``/dev/stdin`` or ``-`` for standard input can be read only
    once), decompressed when it starts with gzip's magic bytes."""
    import sys

    try:
        if str(path) == "-":
            handle = open(sys.stdin.fileno(), "rb", closefd=False)
        else:
            handle = open(path, "rb")
        if handle.peek(2)[:2] != _GZIP_MAGIC:
            return handle
        unzipped = gzip.GzipFile(fileobj=handle, mode="rb")
        unzipped.myfileobj = handle  # closed with it (as when gzip opens the file itself)
        return unzipped
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(str(path), None, None, "is a directory, expected a file") from None
    except PermissionError:
        raise InputError(str(path), None, None, "cannot be read: permission denied") from None
    except OSError as exc:
        raise InputError(str(path), None, None, f"cannot be read: {exc.strerror or exc}") from None


def _lines(path: Path, handle) -> Iterator[tuple[int, bytes]]:
    """Numbered raw lines; a damaged or truncated gzip stream is an InputError at the line it breaks."""
    import zlib

    lineno = 0
    try:
        for lineno, raw in enumerate(handle, start=1):
            yield lineno, raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        reason = "ends early" if isinstance(exc, EOFError) else f"is damaged ({exc})"
        raise InputError(str(path), lineno + 1, None, f"the compressed file {reason}") from None
    except OSError as exc:  # an I/O error while reading (a failing disk, a vanished network file)
        raise InputError(str(path), lineno + 1, None, f"cannot be read: {exc.strerror or exc}") from None


def open_lines(path: str | Path, on_bad: Callable[[InputError], None] | None = None) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its newline) from a text or gzip file.

    A line that is not valid UTF-8 raises an InputError, or, when ``on_bad`` is given, is passed to
    it (which may raise or count it) and skipped.
    """
    path = Path(path)
    with _open_binary(path) as handle:
        for lineno, raw in _lines(path, handle):
            try:
                if lineno == 1:
                    _refuse_utf16(path, raw)
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                error = InputError(str(path), lineno, None, f"invalid UTF-8 (byte {exc.start} of the line)")
                if on_bad is None:
                    raise error from None
                on_bad(error)
                continue
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            yield lineno, line.rstrip("\r\n")


def _refuse_utf16(path: Path, first: bytes) -> None:
    """Raise an InputError when the first line looks UTF-16: its byte-order mark (FF FE, FE FF), or
    a NUL in every other byte (UTF-16 text without a mark)."""
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        found = f"its byte-order mark {first[0]:02X} {first[1]:02X}"
    else:
        sample = first[:400]
        halves = (sample[0::2], sample[1::2])
        if len(sample) < 4 or not any(half.count(0) >= 0.8 * len(half) for half in halves):
            return
        found = "a NUL in every other byte"
    raise InputError(str(path), None, None, f"looks UTF-16 ({found}); babelir reads UTF-8: convert it "
                                            f"(iconv -f UTF-16 -t UTF-8)")
