"""Dense vectors of an index's documents: float16 chunks, memory-mapped, exact search.

Each committed batch writes one chunk: ``dense/<chunk>.docnos.npy`` (int64) and
``dense/<chunk>.vectors.npy`` (float16, unit rows), written before the store's commit that records
the chunk in the table ``dense_chunks``. An unrecorded chunk file (a crash) is ignored and
overwritten. Search: exact inner product, chunk by chunk, top k per query; deleted documents are
skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DENSE = "dense"
MIN_DOCS_FOR_MEAN = 100  # a language's mean is estimated from at least this many documents


def is_multilingual(doc_counts) -> bool:
    """Whether two or more languages have MIN_DOCS_FOR_MEAN+ documents (``doc_counts``: documents
    per language): when the dense language correction is on, and group evidence off by default."""
    return sum(1 for count in doc_counts if count >= MIN_DOCS_FOR_MEAN) >= 2


def write_chunk(directory: Path, name: str, docnos: np.ndarray, vectors: np.ndarray) -> None:
    """Write a chunk's two arrays (each atomically); the caller records it in the store."""
    from babelir.io.atomic import atomic_save_npy

    folder = directory / DENSE
    folder.mkdir(exist_ok=True)
    for suffix, array in (("docnos", docnos.astype(np.int64)), ("vectors", vectors.astype(np.float16))):
        atomic_save_npy(folder / f"{name}.{suffix}.npy", array)


class DenseVectors:
    """The recorded chunks of an index, memory-mapped; :meth:`search` finds the nearest documents.

    Language bias correction (``debias``): multilingual embeddings place texts of one language
    near each other, so same-language non-answers outrank other-language answers. Each document
    and each query has its language's mean document vector (estimated on the index itself, no
    labels) subtracted, and is renormalised (cf. Libovický et al., 2020; Roy et al., 2020). Then
    each query's scores are standardised within each document language (the z-score merging of
    multilingual result lists, as in CLEF's multilingual tracks), so that the best documents of
    every language compete on one scale. The mean and spread of a query's scores over a language's
    documents follow exactly from that language's mean vector and covariance (``q·μ`` and
    ``sqrt(qᵀΣq)``), so no extra pass over the documents is needed at search time.
    """

    def __init__(self, directory: Path, chunk_names: list[str], ids: dict[int, str], langs: dict[int, str]):
        """``ids`` and ``langs`` map the docno of every live document to its id and language."""
        folder = directory / DENSE
        self.ids = ids
        self.docnos = [np.load(folder / f"{n}.docnos.npy", mmap_mode="r") for n in chunk_names]
        self.vectors = [np.load(folder / f"{n}.vectors.npy", mmap_mode="r") for n in chunk_names]
        self.live = [np.fromiter((int(n) in ids for n in docnos), dtype=bool, count=len(docnos)) for docnos in self.docnos]
        self._language_means(langs)

    def _language_means(self, doc_langs: dict[int, str]) -> None:
        """Per chunk row: its language's index; per language: the mean of its live documents' vectors."""
        index: dict[str, int] = {}
        self.lang_rows = [np.fromiter((index.setdefault(doc_langs.get(int(n), "und"), len(index)) for n in docnos),
                                      dtype=np.int32, count=len(docnos)) for docnos in self.docnos]
        self.langs = list(index)
        dim = self.vectors[0].shape[1] if self.vectors else 0
        sums = np.zeros((len(self.langs), dim), dtype=np.float64)
        counts = np.zeros(len(self.langs), dtype=np.int64)
        for vectors, rows, alive in zip(self.vectors, self.lang_rows, self.live):
            np.add.at(sums, rows[alive], np.asarray(vectors, dtype=np.float32)[alive])
            counts += np.bincount(rows[alive], minlength=len(self.langs))
        self.overall_mean = (sums.sum(0) / max(counts.sum(), 1)).astype(np.float32)
        self.means = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        self.counts = counts
        self.estimated = counts >= MIN_DOCS_FOR_MEAN
        self.means[~self.estimated] = self.overall_mean  # too few documents: plain centring
        self._score_moments = None
        self._working: dict[tuple[int, bool], np.ndarray] = {}
        self._working_bytes = 0

    def score_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Per language: the mean ``(L, dim)`` and covariance ``(L, dim, dim)`` of its corrected
        document vectors (pooled over all documents for a language with too few); computed once."""
        if self._score_moments is None:
            count, dim = len(self.langs), self.means.shape[1]
            sums = np.zeros((count, dim)); products = np.zeros((count, dim, dim)); counts = np.zeros(count)
            for c, (vectors, rows, alive) in enumerate(zip(self.vectors, self.lang_rows, self.live)):
                for start in range(0, len(rows), 65_536):
                    mask = alive[start:start + 65_536]
                    part_rows = rows[start:start + 65_536][mask]
                    part = _unit(np.asarray(vectors[start:start + 65_536], dtype=np.float32)[mask]
                                 - self.means[part_rows]).astype(np.float64)
                    for lang in np.unique(part_rows):
                        own = part[part_rows == lang]
                        sums[lang] += own.sum(0); products[lang] += own.T @ own; counts[lang] += len(own)
            pooled_mean = sums.sum(0) / max(counts.sum(), 1)
            pooled_cov = products.sum(0) / max(counts.sum(), 1) - np.outer(pooled_mean, pooled_mean)
            means = sums / np.maximum(counts, 1)[:, None]
            covs = products / np.maximum(counts, 1)[:, None, None] - np.einsum("li,lj->lij", means, means)
            means[~self.estimated], covs[~self.estimated] = pooled_mean, pooled_cov
            self._score_moments = (means.astype(np.float32), covs.astype(np.float32))
        return self._score_moments

    def standardisers(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query and language: the mean and spread of its scores over that language's documents."""
        means, covs = self.score_moments()
        offsets = queries @ means.T  # (queries, languages)
        spreads = np.sqrt(np.maximum(np.einsum("qi,lij,qj->ql", queries, covs, queries), 1e-12))
        return offsets, spreads

    @property
    def corrects_bias(self) -> bool:
        """Whether the correction has something to do: two or more languages with enough documents."""
        return is_multilingual(self.counts)

    def debias_queries(self, queries: np.ndarray, langs: list[str | None]) -> np.ndarray:
        """Queries minus their language's document mean (the overall mean for a language the index
        does not hold), renormalised."""
        position = {lang: i for i, lang in enumerate(self.langs)}
        shifted = np.stack([q - (self.means[position[lang]] if lang in position else self.overall_mean)
                            for q, lang in zip(np.asarray(queries, dtype=np.float32), langs)])
        return _unit(shifted)

    def _working_copy(self, chunk: int, corrected: bool) -> np.ndarray | None:
        """The chunk's vectors as float32 (corrected when asked), kept in memory while all such
        copies fit in ``BABELIR_DENSE_CACHE_MB`` (default 2048); None beyond that budget (search then
        converts block by block from the memory-mapped float16 file)."""
        key = (chunk, corrected)
        if key not in self._working:
            vectors = self.vectors[chunk]
            size = vectors.shape[0] * vectors.shape[1] * 4
            budget = float(os.environ.get("BABELIR_DENSE_CACHE_MB", 2048)) * 2**20
            if self._working_bytes + size > budget:
                return None
            copy = np.asarray(vectors, dtype=np.float32)
            self._working[key] = self.correct(copy, self.lang_rows[chunk]) if corrected else copy
            self._working_bytes += size
        return self._working[key]

    def correct(self, vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Document vectors minus their language's mean (``rows``: language index per vector), unit."""
        return _unit(np.asarray(vectors, dtype=np.float32) - self.means[rows])

    def __len__(self) -> int:
        return sum(len(d) for d in self.docnos)

    def search(self, queries: np.ndarray, k: int, block: int = 65_536, debias: bool = False,
               standardise: bool = True, doc_langs: set[str] | None = None) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, cosine) per query row; ties by doc id descending; deleted documents skipped.

        With ``debias`` the documents are corrected block by block (queries must already be) and
        the scores are standardised per document language unless ``standardise`` is false (see
        the class docstring): they are then z-scores, not cosines. ``doc_langs``: only documents
        of these languages are returned (the correction's statistics still cover every language)."""
        from babelir.index.topk import top_k

        queries = np.asarray(queries, dtype=np.float32)
        standardise = debias and standardise
        if standardise:
            offsets, spreads = self.standardisers(queries)
        best_scores = [np.empty(0, dtype=np.float32) for _ in range(len(queries))]
        best_docnos = [np.empty(0, dtype=np.int64) for _ in range(len(queries))]
        wanted = None if doc_langs is None else np.array([lang in doc_langs for lang in self.langs], dtype=bool)
        for c, (docnos, vectors, keep) in enumerate(zip(self.docnos, self.vectors, self.live)):
            if wanted is not None:
                keep = keep & wanted[self.lang_rows[c]]
            for start in range(0, len(docnos), block):
                mask = keep[start:start + block]
                if not mask.any():
                    continue
                working = self._working_copy(c, debias)
                if working is not None:
                    part = working[start:start + block]
                    part = part if mask.all() else part[mask]
                else:
                    part = np.asarray(vectors[start:start + block], dtype=np.float32)[mask]
                    if debias:
                        part = self.correct(part, self.lang_rows[c][start:start + block][mask])
                part_docnos = np.asarray(docnos[start:start + block])[mask]
                scores = part @ queries.T  # (rows, queries)
                if standardise:
                    rows = self.lang_rows[c][start:start + block][mask]
                    scores = (scores - offsets[:, rows].T) / spreads[:, rows].T
                for q in range(len(queries)):
                    merged_scores = np.concatenate([best_scores[q], scores[:, q]])
                    merged_docnos = np.concatenate([best_docnos[q], part_docnos])
                    if len(merged_scores) > k:
                        kth = np.partition(merged_scores, len(merged_scores) - k)[len(merged_scores) - k]
                        top = merged_scores >= kth
                        merged_scores, merged_docnos = merged_scores[top], merged_docnos[top]
                    best_scores[q], best_docnos[q] = merged_scores, merged_docnos
        return [top_k(docnos, scores, lambda n: self.ids[n], k, positive_only=False)
                for scores, docnos in zip(best_scores, best_docnos)]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
