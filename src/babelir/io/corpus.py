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
from babelir.types import Doc, normalize_lang

ID_FIELDS = ("id", "_id", "docid")
TEXT_FIELDS = ("text", "contents")


def _first(record: dict, names: tuple[str, ...]):
    for name in names:
        if name in record and record[name] is not None:
            return name, record[name]
    return None, None


def parse_json_line(path: Path, lineno: int, line: str) -> dict:
    """Parse one JSONL line into a dict, or raise an InputError naming the line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), lineno, None, f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise InputError(str(path), lineno, None, f"expected a JSON object, got {type(record).__name__}")
    return record


def record_id(path: Path, lineno: int, record: dict) -> str:
    """The record's id as a string; raises when no id field is present or it is empty."""
    _, value = _first(record, ID_FIELDS)
    if value is None:
        raise InputError(str(path), lineno, "id", "missing (expected one of " + ", ".join(ID_FIELDS) + ")")
    if isinstance(value, (dict, list, bool)):
        raise InputError(str(path), lineno, "id", f"must be a string or number, got {type(value).__name__}")
    value = str(value)
    if not value.strip() or any(ch.isspace() for ch in value):
        raise InputError(str(path), lineno, "id", f"must be non-empty and without whitespace: {value!r}")
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
    return str(value).strip()


def read_jsonl_corpus(path: str | Path, bad: BadRecords | None = None) -> Iterator[Doc]:
    """Stream the documents of a JSONL(.gz) corpus.

    Raises InputError for a malformed line, invalid UTF-8, a missing id or text, a duplicate id
    or an empty file, unless ``bad`` says to skip and count such records.
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
            if not isinstance(text, str):
                raise InputError(str(path), lineno, field, f"must be a string, got {type(text).__name__}")
            title = record.get("title") or ""
            if not isinstance(title, str):
                raise InputError(str(path), lineno, "title", f"must be a string, got {type(title).__name__}")
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
