"""Dense retrieval: queries encoded by the index's encoder, exact inner-product search."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.index.core import Index
from babelir.run import Run
from babelir.types import Query


class DenseRetriever:
    """Ranks an index's documents by cosine similarity to the encoded query."""

    def __init__(self, index: str | Path | Index):
        self.index = index if isinstance(index, Index) else Index.open(index)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = None, quiet: bool = True) -> Run:
        """A Run with the top ``k`` documents per query (``lang`` is unused: the encoder is multilingual)."""
        queries = list(queries)
        self.index.require_dense()
        vectors = self.index.encoder.encode_queries([q.text for q in queries])
        results = self.index.search_dense(vectors, k)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-dense")

    def close(self) -> None:
        self.index.close()
