"""Parallel text (bitext) as a retrieval collection.

Two files, line i of one translating line i of the other. Lines of the source file are the queries,
lines of the target file the documents; query ``q<i>`` is relevant to document ``d<i>``, the way
Tatoeba / BUCC-style bitext mining is evaluated as retrieval.
"""

from __future__ import annotations

from pathlib import Path

from babelir.errors import InputError
from babelir.io.collection import Collection
from babelir.io.textfile import open_lines
from babelir.types import Doc, Qrel, Query, normalize_lang


def load_parallel(source: str | Path, target: str | Path, source_lang: str | None = None,
                  target_lang: str | None = None) -> Collection:
    """Build a bitext retrieval collection from two line-aligned files (text or gzip)."""
    src = [line for _, line in open_lines(source)]
    tgt = [line for _, line in open_lines(target)]
    if not src:
        raise InputError(str(source), None, None, "file is empty: no lines")
    if len(src) != len(tgt):
        raise InputError(str(target), min(len(src), len(tgt)) + 1, None,
                         f"line counts differ: {source} has {len(src)}, {target} has {len(tgt)}")
    slang, tlang = normalize_lang(source_lang), normalize_lang(target_lang)
    docs, queries, qrels = [], [], []
    for i, (s, t) in enumerate(zip(src, tgt)):
        if not s.strip():
            raise InputError(str(source), i + 1, "text", "is empty")
        if not t.strip():
            raise InputError(str(target), i + 1, "text", "is empty")
        queries.append(Query(f"q{i}", s, slang))
        docs.append(Doc(f"d{i}", t, lang=tlang))
        qrels.append(Qrel(f"q{i}", f"d{i}", 1))
    return Collection(f"bitext-{slang or 'x'}-{tlang or 'y'}", docs, queries, qrels)
