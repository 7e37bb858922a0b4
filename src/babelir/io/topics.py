"""Topic (query) readers and writers.

Formats:
- TSV: ``qid<TAB>text`` with an optional third column ``lang``; a first line naming the columns
  (``query-id<TAB>text``, ``qid<TAB>query``, ``id<TAB>text<TAB>lang`` …) is a header and skipped;
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
# the column names a TSV header may give (as the qrels reader recognises "query-id corpus-id score")
_HEADER_ID = {"id", "_id", "qid", "query_id", "query-id", "queryid", "topic", "topic_id", "topic-id", "num"}
_HEADER_TEXT = {"text", "query", "title", "question", "query_text", "query-text"}


def read_topics(path: str | Path) -> list[Query]:
    """Read topics from a TSV or JSONL(.gz) file (or a BEIR directory's queries.jsonl).

    A TSV file's first line is a header, and skipped, when its columns are known names (an id
    column such as ``qid``/``query-id``/``id``, then ``text``/``query``/``title``/``question``).

    Raises an InputError naming the file, line and field for a malformed line, a missing or empty
    text, a text with nothing to search for (:func:`babelir.text.searchable.has_searchable_text`:
    punctuation or invisible characters only), an invalid id (:func:`babelir.types.id_problem`), a duplicate id, a lone surrogate, an
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
            if not is_json and _is_tsv_header(line):
                continue
        query = _json_query(path, lineno, line) if is_json else _tsv_query(path, lineno, line)
        if query.id in seen:
            raise InputError(str(path), lineno, "id", f"duplicate query id {query.id!r}")
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise InputError(str(path), None, None, "file is empty: no topics")
    return queries


def _is_tsv_header(line: str) -> bool:
    """Whether a TSV topics line names its columns (``query-id<TAB>text`` …) rather than a topic."""
    parts = [part.strip().lower() for part in line.split("\t")]
    return len(parts) in (2, 3) and parts[0] in _HEADER_ID and parts[1] in _HEADER_TEXT and (
        len(parts) == 2 or parts[2] in ("", "lang", "language"))


def _check_searchable(path: Path, lineno: int, text: str) -> None:
    """A topic must have something to search for, as ``babelir search --query`` requires."""
    from babelir.text.searchable import NOT_SEARCHABLE, has_searchable_text

    if not has_searchable_text(text):
        raise InputError(str(path), lineno, "text", f"no searchable text ({NOT_SEARCHABLE})")


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
    _check_searchable(path, lineno, text)
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
    _check_searchable(path, lineno, text)
    return Query(qid, text, record_lang(path, lineno, record))


def write_topics_tsv(path: str | Path, queries: Iterable[Query]) -> None:
    """Write ``qid<TAB>text<TAB>lang`` lines (tabs and newlines inside texts become spaces)."""
    lines = []
    for q in queries:
        text = " ".join(q.text.split())
        lines.append(f"{q.id}\t{text}\t{q.lang or ''}\n")
    atomic_write_text(path, "".join(lines))
