"""The first stages of a search through Milvus (an index built with ``--backend milvus:…``).

Each function returns what the index's own search returns (per query, the top ``k`` (doc id,
score), best first, ties by doc id descending), so that fusion, group evidence and reranking run
on the same Runs: BM25 scores divided by ``k1 + 1`` (:mod:`babelir.index.milvus`), learned sparse
dot products, and dense scores with babelir's language-bias correction: Milvus holds the corrected
document vectors; the query is corrected with its language's mean, each document language is
searched on its own (a filter on ``lang``), and each one's scores are standardised with the
index's statistics (:meth:`babelir.index.dense.DenseVectors.standardisers`) before the lists merge.

Every hit is kept only when the index's store holds its id (a row a stale mirror still holds never
reaches a Run), and what Milvus raises becomes a one-line BabelirError
(:func:`babelir.index.milvus.milvus_errors`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from babelir.errors import BabelirError
from babelir.index.milvus import encode_terms, held_ids, lang_filter, milvus_errors, open_collection
from babelir.run import Run
from babelir.types import Query

LIMIT = 16_384  # Milvus's largest top-k


def _top(hits: Iterable[tuple[str, float]], k: int, positive_only: bool = True) -> list[tuple[str, float]]:
    found = [(d, s) for d, s in hits if s > 0 or not positive_only]
    found.sort(key=lambda hit: (hit[1], hit[0]), reverse=True)
    return found[:k]


def _search(index, record, **kwargs) -> list[list[dict]]:
    """``MilvusClient.search`` on the record's collection, the hits the store lacks left out."""
    milvus, name = open_collection(record, index)
    with milvus_errors(record["uri"]):
        results = milvus.search(name, output_fields=["id"], **kwargs)
    held = held_ids(index, (h["id"] for hits in results for h in hits))
    return [[h for h in hits if h["id"] in held] for hits in results]


def _limit(k: int) -> int:
    return min(k + 10, LIMIT)  # a little deeper, so that ties at the cut are broken as babelir does


def search_bm25(index, record, texts: list[str], langs: list[str | None], k: int,
                doc_langs=None) -> list[list[tuple[str, float]]]:
    """BM25 of each query text (analysed in its language of ``langs``) through Milvus."""
    scale = 1.0 + record["bm25"]["k1"]
    encoded = [encode_terms(Counter(index.analyzer.analyze(t, lang))) for t, lang in zip(texts, langs)]
    # milvus-lite reports a BM25 match as a negative distance, a server as a positive score
    return _search_queries(index, record, encoded, "bm25", "BM25", k, doc_langs,
                           lambda distance: abs(distance) / scale)


def search_sparse(index, record, encoded: list, k: int, doc_langs=None) -> list[list[tuple[str, float]]]:
    """Learned sparse dot products of encoded queries ((indices, values) pairs) through Milvus."""
    if not record.get("sparse"):
        raise BabelirError(f"{index.directory}: the Milvus collection holds no sparse vectors (index it with --sparse)")
    data = [{int(i): float(v) for i, v in zip(indices, values)} for indices, values in encoded]
    return _search_queries(index, record, data, "sparse", "IP", k, doc_langs, lambda distance: distance)


def _search_queries(index, record, queries: list, field: str, metric: str, k: int, doc_langs,
                    score) -> list[list[tuple[str, float]]]:
    """The top ``k`` of each query through Milvus's ``field``; an empty query (no term, no weight)
    finds nothing and is not sent. ``score``: a hit's distance -> babelir's score."""
    out: list[list[tuple[str, float]]] = [[] for _ in queries]
    asked = [i for i, query in enumerate(queries) if query]
    if not asked:
        return out
    results = _search(index, record, data=[queries[i] for i in asked], anns_field=field, limit=_limit(k),
                      search_params={"metric_type": metric}, filter=lang_filter(doc_langs) or "")
    for i, hits in zip(asked, results):
        out[i] = _top(((h["id"], score(float(h["distance"]))) for h in hits), k)
    return out


def search_dense(index, record, query_vectors, k: int, query_langs=None, debias: bool | None = None,
                 standardise: bool = True, doc_langs=None) -> list[list[tuple[str, float]]]:
    """Dense search through Milvus, with the index's language-bias correction (see the module)."""
    import numpy as np

    kind = record.get("dense")
    if not kind:
        raise BabelirError(f"{index.directory}: the Milvus collection holds no dense vectors (index it with --dense)")
    vectors = index.dense_vectors()
    corrected = kind == "corrected"
    if debias is None:
        debias = corrected
    if bool(debias) != corrected:
        raise BabelirError(f"{index.directory}: the Milvus collection holds {kind} dense vectors; a search "
                           f"{'with' if debias else 'without'} the language correction needs --backend local")
    queries = np.asarray(query_vectors, dtype=np.float32)
    if debias:
        queries = vectors.debias_queries(queries, list(query_langs or [None] * len(queries)))
    params = {"metric_type": "IP", "params": {"ef": max(_limit(k), 200)}}
    merged: list[list[tuple[str, float]]] = [[] for _ in range(len(queries))]
    if not (debias and standardise):  # one search over every language
        results = _search(index, record, data=queries.tolist(), anns_field="dense", limit=_limit(k),
                          search_params=params, filter=lang_filter(doc_langs) or "")
        return [_top(((h["id"], float(h["distance"])) for h in hits), k, positive_only=False) for hits in results]
    offsets, spreads = vectors.standardisers(queries)
    for position, lang in enumerate(vectors.langs):
        if doc_langs is not None and lang not in doc_langs:
            continue
        if not vectors.counts[position]:
            continue
        results = _search(index, record, data=queries.tolist(), anns_field="dense", limit=_limit(k),
                          search_params=params, filter=lang_filter([lang]))
        for q, hits in enumerate(results):
            merged[q].extend((h["id"], (float(h["distance"]) - offsets[q, position]) / spreads[q, position])
                             for h in hits)
    return [_top(hits, k, positive_only=False) for hits in merged]


class MilvusBM25Retriever:
    """:class:`babelir.retrieve.bm25.BM25Retriever` through Milvus (same arguments; k1 / b cannot
    be overridden: Milvus scores with those the collection was made with)."""

    def __init__(self, index, record, k1=None, b=None, doc_langs=None):
        if (k1 is not None and k1 != record["bm25"]["k1"]) or (b is not None and b != record["bm25"]["b"]):
            raise BabelirError(f"{index.directory}: Milvus scores BM25 with k1 {record['bm25']['k1']}, "
                               f"b {record['bm25']['b']}; other values need --backend local")
        self.index, self.record = index, record
        self.doc_langs = index.language_filter(doc_langs)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        from babelir.retrieve.language_gate import analysis_language

        queries = list(queries)
        langs = [analysis_language(q, self.index, lang) for q in queries]
        results = search_bm25(self.index, self.record, [q.text for q in queries], langs, k, self.doc_langs)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-bm25")


class MilvusDenseRetriever:
    """:class:`babelir.retrieve.dense.DenseRetriever` through Milvus (``exact`` is not offered:
    Milvus searches its HNSW graph)."""

    def __init__(self, index, record, debias=None, standardise=True, doc_langs=None):
        self.index, self.record = index, record
        self.debias, self.standardise = debias, standardise
        self.doc_langs = index.language_filter(doc_langs)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        from babelir.retrieve.language_gate import analysis_language

        queries = list(queries)
        self.index.require_dense()
        vectors = self.index.encoder.encode_queries([q.text for q in queries])
        langs = [analysis_language(q, self.index, lang) for q in queries]
        results = search_dense(self.index, self.record, vectors, k, langs, self.debias, self.standardise,
                               self.doc_langs)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-dense")


class MilvusSparseRetriever:
    """:class:`babelir.retrieve.dense.SparseRetriever` through Milvus."""

    def __init__(self, index, record, doc_langs=None):
        self.index, self.record = index, record
        self.doc_langs = index.language_filter(doc_langs)

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = None, quiet: bool = True) -> Run:
        queries = list(queries)
        encoded = self.index.encoder.encode_sparse([q.text for q in queries])
        results = search_sparse(self.index, self.record, encoded, k, self.doc_langs)
        return Run({q.id: dict(hits) for q, hits in zip(queries, results)}, name="babelir-sparse")
