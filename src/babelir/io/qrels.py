"""Qrels readers and writers: TREC (``qid 0 docid rel``) and BEIR TSV (``query-id corpus-id score``).

The format is recognised per file, by its first judgment: four whitespace-separated columns are
TREC; three are BEIR TSV (whose first line may be the header ``query-id corpus-id score``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babelir.errors import InputError
from babelir.io.atomic import atomic_write_text
from babelir.io.textfile import open_lines
from babelir.types import Qrel, id_problem


_INTEGER = re.compile(r"[+-]?[0-9]+")
# the names a BEIR TSV header may give its relevance column (BEIR writes "query-id corpus-id score")
_HEADER_LAST = {"score", "relevance", "rel", "label", "grade", "judgment", "judgement"}
# pytrec_eval keeps a relevance in a C int: beyond it a grade raises SystemError or silently wraps
_REL_MIN, _REL_MAX = -2**31, 2**31 - 1
_FORMS = {4: "'qid 0 docid rel' (TREC)", 3: "'qid<TAB>docid<TAB>rel' (BEIR TSV)"}


def beir_qrels_file(directory: Path, split: str | None = None) -> Path:
    """The qrels TSV of a BEIR directory: ``qrels/<split>.tsv``, default test, else the only one."""
    qdir = directory / "qrels"
    if split:
        path = qdir / f"{split}.tsv"
        if not path.is_file():
            raise InputError(str(path), None, None, "no such qrels split")
        return path
    if (qdir / "test.tsv").is_file():
        return qdir / "test.tsv"
    found = sorted(qdir.glob("*.tsv")) if qdir.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise InputError(str(qdir), None, None, "expected qrels/test.tsv (or exactly one qrels/*.tsv)")


def read_qrels(path: str | Path) -> list[Qrel]:
    """Read qrels from a TREC or BEIR TSV file, or from a BEIR directory (qrels/test.tsv).

    The first judgment fixes the format: 4 columns (TREC) or 3 (BEIR TSV, after an optional
    header such as ``query-id corpus-id score``); every line must then have as many. Returns the
    judgments in file order. A (query, document) pair judged twice with the same relevance is kept
    once; judged twice with different relevances it is an error naming both lines (trec_eval refuses
    any repeated pair; the last one silently winning would change the numbers).

    Raises an InputError naming the file and line (and field) for a wrong column count, a relevance
    that is not an integer or lies outside -2**31 .. 2**31-1 (what pytrec_eval holds), an invalid id (:func:`babelir.types.id_problem`), conflicting
    judgments, a file that cannot be read or a damaged gzip stream, and a file without judgments.
    """
    path = Path(path)
    if path.is_dir():
        path = beir_qrels_file(path)
    qrels: list[Qrel] = []
    judged: dict[tuple[str, str], tuple[int, int]] = {}  # (query, doc) -> (relevance, line)
    columns = None
    for lineno, line in open_lines(path):
        parts = line.split()
        if not parts:
            continue
        if columns is None:
            if len(parts) == 3 and parts[2].lower() in _HEADER_LAST:  # a BEIR header
                columns = 3
                continue
            if len(parts) not in _FORMS:
                raise InputError(str(path), lineno, None,
                                 f"expected {_FORMS[4]} or {_FORMS[3]}, got {len(parts)} columns")
            columns = len(parts)
        elif len(parts) != columns:
            raise InputError(str(path), lineno, None,
                             f"expected {columns} columns {_FORMS[columns]} like the lines above, got {len(parts)}")
        qid, did, rel = (parts[0], parts[2], parts[3]) if columns == 4 else parts
        if not _INTEGER.fullmatch(rel):
            raise InputError(str(path), lineno, "relevance", f"not an integer: {rel!r}")
        for field, value in (("query id", qid), ("doc id", did)):
            problem = id_problem(value)
            if problem is not None:
                raise InputError(str(path), lineno, field, problem)
        relevance = int(rel)
        if not _REL_MIN <= relevance <= _REL_MAX:
            raise InputError(str(path), lineno, "relevance",
                             f"out of range: {rel} (a grade must lie between {_REL_MIN} and {_REL_MAX})")
        before = judged.get((qid, did))
        if before is None:
            judged[(qid, did)] = relevance, lineno
            qrels.append(Qrel(qid, did, relevance))
        elif before[0] != relevance:
            raise InputError(str(path), lineno, "relevance",
                             f"conflicting judgments of document {did!r} for query {qid!r}: "
                             f"{before[0]} at line {before[1]}, {relevance} at line {lineno}")
    if not qrels:
        raise InputError(str(path), None, None, "file is empty: no judgments")
    return qrels


def qrels_dict(qrels: Iterable[Qrel]) -> dict[str, dict[str, int]]:
    """``{query id: {doc id: relevance}}``, the shape pytrec_eval takes."""
    out: dict[str, dict[str, int]] = {}
    for q in qrels:
        out.setdefault(q.query_id, {})[q.doc_id] = q.relevance
    return out


def write_qrels_trec(path: str | Path, qrels: Iterable[Qrel]) -> None:
    """Write TREC qrels, atomically."""
    atomic_write_text(path, "".join(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n" for q in qrels))


def write_qrels_beir(path: str | Path, qrels: Iterable[Qrel]) -> None:
    """Write BEIR TSV qrels with their header, atomically."""
    body = "".join(f"{q.query_id}\t{q.doc_id}\t{q.relevance}\n" for q in qrels)
    atomic_write_text(path, "query-id\tcorpus-id\tscore\n" + body)
