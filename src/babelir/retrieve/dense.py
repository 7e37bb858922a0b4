"""Dense retrieval: queries encoded by the index's encoder, exact inner-product search."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.index.core import Index
from babelir.run import Run
from babelir.types import Query


class DenseRetriever:
    """Ranks an index's documents by cosine similarity to the encoded query.

    ``debias``: None (default) corrects language bias when the index holds several languages;
    True / False force it. A query's language (for the correction) is its own ``lang``, else
    ``lang`` (a code, or ``auto`` to detect it). ``standardise=False`` keeps only the first step of
    the correction (language means removed, scores not standardised per document language).
    ``doc_langs``: only documents of these languages are returned. ``exact``: never use the
    index's ANN graphs."""

    def __init__(self, index: str | Path | Index, debias: bool | None = None, standardise: bool = True,
                 doc_langs=None, exact: bool = False):
        self.index = index if isinstance(index, Index) else Index.open(index)
        self.doc_langs = self.index.language_filter(doc_langs)
        self.debias = debias
        self.standardise = standardise
        self.exact = exact

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        """A Run with the top ``k`` documents per query."""
        from babelir.retrieve.language_gate import analysis_language

        queries = list(queries)
        self.index.require_dense()
        vectors = self.index.encoder.encode_queries([q.text for q in queries])
        langs = [analysis_language(q, self.index, lang) for q in queries]
        results = self.index.search_dense(vectors, k, query_langs=langs, debias=self.debias,
                                           standardise=self.standardise, doc_langs=self.doc_langs,
                                           exact=self.exact)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-dense")

    def close(self) -> None:
        self.index.close()


class SparseRetriever:
    """Learned sparse retrieval: the query's latent-term vector against the documents' (dot product).
    ``doc_langs``: only documents of these languages are returned."""

    def __init__(self, index: str | Path | Index, doc_langs=None):
        self.index = index if isinstance(index, Index) else Index.open(index)
        self.doc_langs = self.index.language_filter(doc_langs)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = None, quiet: bool = True) -> Run:
        """A Run with the top ``k`` documents per query."""
        queries = list(queries)
        results = self.index.search_sparse([q.text for q in queries], k, doc_langs=self.doc_langs)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-sparse")

    def close(self) -> None:
        self.index.close()
