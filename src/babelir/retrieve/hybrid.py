"""Hybrid retrieval (any of BM25, dense and sparse, fused), and the factory the CLI uses for every mode."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babelir.errors import BabelirError
from babelir.fuse import linear, rrf, zscore
from babelir.index.core import Index
from babelir.retrieve.bm25 import BM25Retriever
from babelir.retrieve.dense import DenseRetriever, SparseRetriever
from babelir.retrieve.grouped import GroupEvidenceRetriever, default_group_weight
from babelir.run import Run
from babelir.types import Query


class HybridRetriever:
    """Runs of several modes (each to ``depth``) fused by RRF, by min-max normalised linear
    interpolation (``linear``) or by a weighted sum of z-scores (``zscore``).

    ``modes``: the modes to fuse (default bm25 and dense). ``weights``: linear / zscore fusion
    weights, one per mode; without them, the per-language weights ``babelir tune`` stored in the
    index for these modes and this fusion, else equal weights."""

    def __init__(self, index: Index, modes: tuple[str, ...] = ("bm25", "dense"), fusion: str = "rrf",
                 weights: list[float] | None = None, depth: int = 100, k1: float | None = None,
                 b: float | None = None, debias: bool | None = None, standardise: bool = True,
                 doc_langs=None, exact: bool = False):
        self.index = index
        self.retrievers = [make_retriever(index, mode, k1=k1, b=b, debias=debias, standardise=standardise,
                                          doc_langs=doc_langs, exact=exact, group_weight=0.0) for mode in modes]
        self.modes, self.fusion, self.weights, self.depth = tuple(modes), fusion, weights, depth

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        queries = list(queries)
        depth = max(k, self.depth)
        runs = [r.retrieve(queries, depth, lang, quiet) for r in self.retrievers]
        if self.fusion == "rrf":
            return rrf(runs).cutoff(k)
        fuse = linear if self.fusion == "linear" else zscore
        tuned = self._tuned_weights()
        if self.weights is not None or not tuned:
            return fuse(runs, self.weights).cutoff(k)
        # weights tuned per language (babelir tune): fuse each language's queries with its own
        from babelir.text.langid import detect

        groups: dict[str, list[str]] = {}
        for query in queries:
            query_lang = query.lang or (detect(query.text) if lang in (None, "auto") else lang)
            groups.setdefault(query_lang, []).append(query.id)
        fused: dict[str, dict[str, float]] = {}
        for query_lang, ids in groups.items():
            subset = [Run({q: run[q] for q in ids if q in run}) for run in runs]
            part = fuse(subset, tuned.get(query_lang))
            fused.update({q: part[q] for q in part})
        return Run(fused, name=self.fusion).cutoff(k)

    def _tuned_weights(self) -> dict[str, list[float]] | None:
        """Per-language weights stored by ``babelir tune`` for these modes and this fusion, if any."""
        stored = self.index.manifest.get("fusion_weights")
        if stored and stored["modes"] == list(self.modes) and stored["fusion"] == self.fusion:
            return stored["by_lang"]
        return None

    def close(self) -> None:
        self.index.close()


def make_retriever(index: str | Path | Index, mode: str = "bm25", fusion: str = "rrf",
                   weights: list[float] | None = None, k1: float | None = None, b: float | None = None,
                   debias: bool | None = None, hybrid_of: tuple[str, ...] = ("bm25", "dense"),
                   standardise: bool = True, doc_langs=None, exact: bool = False, group_weight: float | None = None):
    """The retriever for ``mode`` (bm25, dense, sparse or hybrid of ``hybrid_of``) over ``index``.

    ``debias`` and ``standardise``: the dense language-bias correction (see DenseRetriever).
    ``doc_langs``: only documents of these languages (codes, or a comma-separated string).
    ``exact``: dense search never uses the ANN graphs. ``group_weight``: the weight of each
    document's group evidence (:mod:`babelir.retrieve.grouped`; a hybrid adds it after fusion);
    None: 1.0 when the index's documents have groups and one language, else none (see
    :func:`babelir.retrieve.grouped.default_group_weight`); 0 turns it off."""
    index = index if isinstance(index, Index) else Index.open(index)
    if group_weight is None:
        group_weight = default_group_weight(index)
    if group_weight < 0:
        raise BabelirError(f"the group weight must be 0 or more, not {group_weight}")
    if mode == "bm25":
        retriever = BM25Retriever(index, k1=k1, b=b, doc_langs=doc_langs)
    elif mode == "dense":
        retriever = DenseRetriever(index, debias=debias, standardise=standardise, doc_langs=doc_langs, exact=exact)
    elif mode == "sparse":
        retriever = SparseRetriever(index, doc_langs=doc_langs)
    else:
        retriever = HybridRetriever(index, tuple(hybrid_of), fusion=fusion, weights=weights, k1=k1, b=b,
                                    debias=debias, standardise=standardise, doc_langs=doc_langs, exact=exact)
    return GroupEvidenceRetriever(retriever, group_weight) if group_weight > 0 else retriever
