"""Topic (query) readers and writers.

Formats:
- TSV: ``qid<TAB>text`` with an optional third column ``lang``;
- JSONL (BEIR ``queries.jsonl``): id under ``id``/``_id``/``qid``, text under ``text``/``query``,
  optional ``lang``.
The format is chosen by the first non-empty line: a line starting with ``{`` is JSONL.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.errors import BabelirError, InputError
from babelir.io.atomic import atomic_write_text
from babelir.io.corpus import parse_json_line, record_id, record_lang, record_text
from babelir.io.textfile import open_lines
from babelir.types import Query, id_problem, normalize_lang


QUERY_ID_FIELDS = ("id", "_id", "qid", "query_id")


def read_topics(path: str | Path) -> list[Query]:
    """Read topics from a TSV or JSONL(.gz) file (or a BEIR directory's queries.jsonl).

    Raises an InputError naming the file, line and field for a malformed line, a missing or empty
    text, an invalid id (:func:`babelir.types.id_problem`), a duplicate id, a lone surrogate, an
    unknown language, a file that cannot be read or a damaged gzip stream, and an empty file."""
    path = Path(path)
    if path.is_dir():
        from babelir.io.beir import beir_file

        path = beir_file(path, "queries")
    queries: list[Query] = []
    seen: set[str] = set()
    is_json = None
    for lineno, line in open_lines(path):
        if not line.strip():
            continue
        if is_json is None:
            is_json = line.lstrip().startswith("{")
        query = _json_query(path, lineno, line) if is_json else _tsv_query(path, lineno, line)
        if query.id in seen:
            raise InputError(str(path), lineno, "id", f"duplicate query id {query.id!r}")
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise InputError(str(path), None, None, "file is empty: no topics")
    return queries


def _tsv_query(path: Path, lineno: int, line: str) -> Query:
    parts = line.split("\t")
    if len(parts) < 2:
        raise InputError(str(path), lineno, "text", "missing: expected 'qid<TAB>text[<TAB>lang]'")
    if len(parts) > 3:
        raise InputError(str(path), lineno, None, f"expected 2 or 3 tab-separated columns, got {len(parts)}")
    qid, text = parts[0].strip(" "), parts[1].strip()  # only spaces around an id are trimmed
    problem = id_problem(qid)
    if problem is not None:
        raise InputError(str(path), lineno, "id", problem)
    if not text:
        raise InputError(str(path), lineno, "text", "is empty")
    lang = None
    if len(parts) == 3 and parts[2].strip():
        try:
            lang = normalize_lang(parts[2])
        except BabelirError as exc:
            raise InputError(str(path), lineno, "lang", str(exc)) from None
    return Query(qid, text, lang)


def _json_query(path: Path, lineno: int, line: str) -> Query:
    record = parse_json_line(path, lineno, line)
    qid = record_id(path, lineno, record, QUERY_ID_FIELDS)
    field, text = next(((k, record[k]) for k in ("text", "query", "title") if record.get(k) is not None),
                       ("text", None))
    if text is None or not record_text(path, lineno, field, text).strip():
        raise InputError(str(path), lineno, "text", "missing or empty (expected text or query)")
    return Query(qid, text, record_lang(path, lineno, record))


def write_topics_tsv(path: str | Path, queries: Iterable[Query]) -> None:
    """Write ``qid<TAB>text<TAB>lang`` lines (tabs and newlines inside texts become spaces)."""
    lines = []
    for q in queries:
        text = " ".join(q.text.split())
        lines.append(f"{q.id}\t{text}\t{q.lang or ''}\n")
    atomic_write_text(path, "".join(lines))
