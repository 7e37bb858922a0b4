"""Qrels readers and writers: TREC (``qid 0 docid rel``) and BEIR TSV (``query-id corpus-id score``).

The format is recognised per file: four whitespace-separated columns are TREC; three
tab-separated columns are BEIR (whose first line may be the header ``query-id corpus-id score``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.errors import InputError
from babelir.io.atomic import atomic_write_text
from babelir.io.textfile import open_lines
from babelir.types import Qrel


def read_qrels(path: str | Path) -> list[Qrel]:
    """Read qrels from a TREC or BEIR TSV file, or from a BEIR directory (qrels/test.tsv)."""
    path = Path(path)
    if path.is_dir():
        from babelir.io.beir import beir_qrels_file

        path = beir_qrels_file(path)
    qrels: list[Qrel] = []
    for lineno, line in open_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 4:
            qid, _, did, rel = parts
        elif len(parts) == 3:
            qid, did, rel = parts
            if lineno == 1 and not _is_int(rel):  # BEIR header
                continue
        else:
            raise InputError(str(path), lineno, None,
                             f"expected 'qid 0 docid rel' (TREC) or 'qid<TAB>docid<TAB>rel' (BEIR), got {len(parts)} columns")
        if not _is_int(rel):
            raise InputError(str(path), lineno, "relevance", f"not an integer: {rel!r}")
        qrels.append(Qrel(qid, did, int(rel)))
    if not qrels:
        raise InputError(str(path), None, None, "file is empty: no judgements")
    return qrels


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


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
