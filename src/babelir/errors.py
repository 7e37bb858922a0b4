"""User-facing errors.

Every error a user can cause by giving babelir bad input is a :class:`BabelirError`. The CLI prints
its message and exits with status 2, without a traceback.
"""

from __future__ import annotations


class BabelirError(Exception):
    """An error caused by the user's input or request, printed without a traceback."""


class InputError(BabelirError):
    """Bad input in a file: names the file, the line (1-based) and the field where it is known.

    >>> str(InputError("corpus.jsonl", 3, "id", "missing"))
    'corpus.jsonl:3: field "id": missing'
    """

    def __init__(self, path: str | None, line: int | None, field: str | None, message: str):
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        where = str(path) if path else "<input>"
        if line is not None:
            where += f":{line}"
        what = f'field "{field}": ' if field else ""
        super().__init__(f"{where}: {what}{message}")


class IndexFormatError(BabelirError):
    """An index directory that is missing, of another format, or damaged."""


class DamagedSegment(IndexFormatError, ValueError):
    """A postings segment file that is cut short or whose contents cannot be right (a row past the
    collection); a ValueError too."""
