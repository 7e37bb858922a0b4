"""Corpus readers: JSONL files and BEIR directories, streamed.

A JSONL record has its id under ``id``, ``_id`` or ``docid``; its text under ``text`` or
``contents``; optional ``title``, ``lang`` and ``group`` (the unit the record was cut from, e.g. the
paragraph of a sentence: a string or number). Ids and groups are kept as strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from babelir.errors import InputError
from babelir.io.records import BadRecords
from babelir.io.textfile import open_lines
from babelir.types import Doc, id_problem, normalize_lang, text_problem

ID_FIELDS = ("id", "_id", "docid")
TEXT_FIELDS = ("text", "contents")


def _first(record: dict, names: tuple[str, ...]):
    for name in names:
        if name in record and record[name] is not None:
            return name, record[name]
    return None, None


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list) -> dict:
    """A JSON object as a dict; a key given twice (which json would silently resolve to the last
    value) raises :class:`_DuplicateKey`."""
    record = dict(pairs)
    if len(record) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return record


class JSONNumber(str):
    """A JSON number as it is written (``1e5``, ``-0``, ``NaN``): an id or a group may be one, a
    text may not."""


def parse_json_line(path: Path, lineno: int, line: str) -> dict:
    """Parse one JSONL line into a dict, or raise an InputError naming the line (malformed JSON,
    nesting too deep for the parser, a number too long to convert, not an object)."""
    if line.startswith("\ufeff"):  # json's own message is advice to Python programmers
        raise InputError(str(path), lineno, None, "a byte-order mark (U+FEFF) in the middle of the file "
                                                  "(files joined together?): remove it")
    try:
        # a number is kept as it is written ("1e5", "-0", "1e400"), as the README promises, not as
        # the float Python would make of it ("100000.0", "0", "inf")
        record = json.loads(line, object_pairs_hook=_no_duplicate_keys, parse_int=JSONNumber,
                            parse_float=JSONNumber, parse_constant=JSONNumber)
    except _DuplicateKey as exc:
        raise InputError(str(path), lineno, exc.key, "appears twice in the object: keep one") from None
    except json.JSONDecodeError as exc:
        # exc.msg may end in " at" ("Unterminated string starting at"): the column completes it
        message = exc.msg.removesuffix(" at")
        raise InputError(str(path), lineno, None, f"malformed JSON ({message} at column {exc.colno})") from None
    except RecursionError:
        raise InputError(str(path), lineno, None, "malformed JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(str(path), lineno, None, f"malformed JSON ({exc})") from None
    if not isinstance(record, dict):
        raise InputError(str(path), lineno, None, f"expected a JSON object, got {type(record).__name__}")
    return record


def record_id(path: Path, lineno: int, record: dict, names: tuple[str, ...] = ID_FIELDS) -> str:
    """The record's id (under the first of ``names`` present) as a string; raises an InputError when
    none is present, or it is not a string or number, or not a valid id (:func:`babelir.types.id_problem`:
    empty, whitespace, control characters, lone surrogates)."""
    name, value = _first(record, names)
    others = [n for n in names if n != name and record.get(n) is not None and str(record[n]) != str(value)]
    if others:
        raise InputError(str(path), lineno, others[0], f"a second id, {record[others[0]]!r}, beside "
                         f"\"{name}\" {value!r}: keep one")
    if value is None:
        raise InputError(str(path), lineno, "id", "missing (expected one of " + ", ".join(names) + ")")
    if isinstance(value, (dict, list, bool)):
        raise InputError(str(path), lineno, "id", f"must be a string or number, got {type(value).__name__}")
    value = str(value)
    problem = id_problem(value)
    if problem is not None:
        raise InputError(str(path), lineno, "id", problem)
    return value


def record_text(path: Path, lineno: int, field: str, value) -> str:
    """A text field (text, title) as a string: raises an InputError when it is not a string or holds
    a lone surrogate (:func:`babelir.types.text_problem`)."""
    if not isinstance(value, str) or isinstance(value, JSONNumber):
        kind = "number" if isinstance(value, JSONNumber) else type(value).__name__
        raise InputError(str(path), lineno, field, f"must be a string, got {kind}")
    problem = text_problem(value)
    if problem is not None:
        raise InputError(str(path), lineno, field, problem)
    return value


def record_lang(path: Path, lineno: int, record: dict) -> str | None:
    """The record's normalised language code, or None."""
    value = record.get("lang") or record.get("language")
    if value is None:
        return None
    try:
        return normalize_lang(str(value))
    except Exception as exc:  # BabelirError from normalize_lang
        raise InputError(str(path), lineno, "lang", str(exc)) from None


def record_group(path: Path, lineno: int, record: dict) -> str:
    """The record's ``group`` as a string ("" when absent)."""
    value = record.get("group")
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise InputError(str(path), lineno, "group", f"must be a string or number, got {type(value).__name__}")
    return record_text(path, lineno, "group", str(value)).strip()


def read_jsonl_corpus(path: str | Path, bad: BadRecords | None = None) -> Iterator[Doc]:
    """Stream the documents of a JSONL(.gz) corpus.

    Raises InputError for a malformed line, invalid UTF-8, a missing or invalid id, a missing text,
    a lone surrogate in the id, text, title or group, a duplicate id or an empty file, unless ``bad``
    says to skip and count such records (each bad record is caught here, as it is read, so a skip
    costs only that record). A file that cannot be read, or a damaged gzip stream, always raises.
    """
    path = Path(path)
    bad = bad or BadRecords()
    seen: set[str] = set()
    any_line = False
    for lineno, line in open_lines(path, on_bad=bad):
        if not line.strip():
            continue
        any_line = True
        try:
            record = parse_json_line(path, lineno, line)
            doc_id = record_id(path, lineno, record)
            field, text = _first(record, TEXT_FIELDS)
            if text is None:
                raise InputError(str(path), lineno, "text", "missing (expected one of " + ", ".join(TEXT_FIELDS) + ")")
            text = record_text(path, lineno, field, text)
            title = record_text(path, lineno, "title", record.get("title") or "")
            if not text.strip() and not title.strip():
                raise InputError(str(path), lineno, field, "is empty")
            if doc_id in seen:
                raise InputError(str(path), lineno, "id", f"duplicate id {doc_id!r}")
            lang = record_lang(path, lineno, record)
            group = record_group(path, lineno, record)
        except InputError as exc:
            bad(exc)
            continue
        seen.add(doc_id)
        yield Doc(doc_id, text, title, lang, group)
    if not any_line:
        raise InputError(str(path), None, None, "file is empty: no records")


def read_corpus(path: str | Path, bad: BadRecords | None = None) -> Iterator[Doc]:
    """Stream a corpus from a JSONL(.gz) file or a BEIR directory (its ``corpus.jsonl[.gz]``)."""
    path = Path(path)
    if path.is_dir():
        from babelir.io.beir import beir_file

        path = beir_file(path, "corpus")
    return read_jsonl_corpus(path, bad)
