"""Hybrid retrieval (BM25 + dense, fused), and the factory the CLI uses for every mode."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.fuse import linear, rrf
from babelir.index.core import Index
from babelir.retrieve.bm25 import BM25Retriever
from babelir.retrieve.dense import DenseRetriever
from babelir.run import Run
from babelir.types import Query


class HybridRetriever:
    """BM25 and dense runs (each to ``depth``) fused by RRF or by normalised linear interpolation."""

    def __init__(self, index: Index, fusion: str = "rrf", weight: float = 0.5, depth: int = 100,
                 k1: float | None = None, b: float | None = None, debias: bool | None = None):
        self.index = index
        self.bm25, self.dense = BM25Retriever(index, k1=k1, b=b), DenseRetriever(index, debias=debias)
        self.fusion, self.weight, self.depth = fusion, weight, depth

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        queries = list(queries)
        depth = max(k, self.depth)
        runs = [self.bm25.retrieve(queries, depth, lang, quiet), self.dense.retrieve(queries, depth)]
        fused = rrf(runs) if self.fusion == "rrf" else linear(runs, [1 - self.weight, self.weight])
        return fused.cutoff(k)

    def close(self) -> None:
        self.index.close()


def make_retriever(index: str | Path | Index, mode: str = "bm25", fusion: str = "rrf", weight: float = 0.5,
                   k1: float | None = None, b: float | None = None, debias: bool | None = None):
    """The retriever for ``mode`` (bm25, dense or hybrid) over ``index``."""
    index = index if isinstance(index, Index) else Index.open(index)
    if mode == "bm25":
        return BM25Retriever(index, k1=k1, b=b)
    if mode == "dense":
        return DenseRetriever(index, debias=debias)
    return HybridRetriever(index, fusion=fusion, weight=weight, k1=k1, b=b, debias=debias)
