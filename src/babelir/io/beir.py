"""BEIR directory layout: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv`` (found by
:func:`babelir.io.qrels.beir_qrels_file`, which reading qrels needs too)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from babelir.errors import InputError
from babelir.io.atomic import atomic_write_text
from babelir.io.qrels import write_qrels_beir
from babelir.types import Doc, Qrel, Query


def beir_file(directory: Path, stem: str) -> Path:
    """The ``<stem>.jsonl`` or ``<stem>.jsonl.gz`` file of a BEIR directory (both: refused, ambiguous)."""
    names = (f"{stem}.jsonl", f"{stem}.jsonl.gz")
    present = [directory / name for name in names if (directory / name).exists()]
    if len(present) == 2:
        raise InputError(str(directory), None, None, f"both {names[0]} and {names[1]}: which one? "
                                                     f"remove or rename the other")
    for path in present:
        if path.is_dir():
            raise InputError(str(path), None, None, "is a directory, expected a file")
        return path
    raise InputError(str(directory), None, None, f"not a BEIR directory: no {stem}.jsonl or {stem}.jsonl.gz")


def write_beir(directory: str | Path, docs: Iterable[Doc], queries: Iterable[Query], qrels: Iterable[Qrel],
               split: str = "test") -> None:
    """Write a BEIR directory; ``lang`` and ``group`` are kept as extra fields of each record."""
    directory = Path(directory)
    corpus = []
    for d in docs:
        record = {"_id": d.id, "title": d.title, "text": d.text}
        if d.lang:
            record["lang"] = d.lang
        if d.group:
            record["group"] = d.group
        corpus.append(json.dumps(record, ensure_ascii=False) + "\n")
    atomic_write_text(directory / "corpus.jsonl", "".join(corpus))
    lines = []
    for q in queries:
        record = {"_id": q.id, "text": q.text}
        if q.lang:
            record["lang"] = q.lang
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    atomic_write_text(directory / "queries.jsonl", "".join(lines))
    write_qrels_beir(directory / "qrels" / f"{split}.tsv", qrels)
