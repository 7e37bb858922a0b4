"""BM25 retrieval over a babelir index."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.progress import progress
from babelir.retrieve.language_gate import analysis_language
from babelir.run import Run
from babelir.types import Query


class BM25Retriever:
    """Ranks an index's documents for queries with BM25.

    ``k1`` / ``b`` override the parameters stored in the index manifest. Query language: each
    query's own ``lang``, else ``lang`` (a code, or ``auto``, the default, to detect it per query
    among the index's languages, so that the query is analysed like documents of its language;
    :func:`babelir.retrieve.language_gate.analysis_language`). ``doc_langs``: only documents of
    these languages are returned (codes, or a comma-separated string).
    """

    def __init__(self, index: str | Path | Index, k1: float | None = None, b: float | None = None,
                 doc_langs=None):
        self.index = index if isinstance(index, Index) else Index.open(index)
        self.doc_langs = self.index.language_filter(doc_langs)
        if k1 is not None or b is not None:
            stored = self.index.params
            self.index.params = BM25Params(stored.k1 if k1 is None else k1, stored.b if b is None else b)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        """A Run with the top ``k`` documents of every query (a query with no match has no entry)."""
        queries = list(queries)
        scores = {}
        for query in progress(queries, desc="searching", unit="q", quiet=quiet):
            query_lang = analysis_language(query, self.index, lang)
            scores[query.id] = dict(self.index.search(query.text, k, query_lang, doc_langs=self.doc_langs))
        return Run(scores, name="babelir-bm25")

    def close(self) -> None:
        self.index.close()
