"""Term postings of an index's committed documents as numpy arrays, for vectorised exact BM25.

The cache is derived data: it is built from the document store's term counts, saved as
``postings.npz`` beside it (atomically), and stamped with the store's commit ``generation``;
a cache whose stamp differs from the store's is rebuilt. Losing it loses nothing.

Layout (CSC by term): ``vocab`` (term -> term id), ``offsets`` (int64, V + 1), ``docs`` (int32
dense document index per posting), ``tfs`` (float32 term frequency per posting), ``lengths``
(float32 per document) and ``ids`` (document id per dense index).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from babelir.index.bm25 import BM25Params, idf
from babelir.index.topk import top_k

CACHE = "postings.npz"
_SEP = "\x00"


class ImpactCache:
    """Postings in memory; :meth:`search` scores one query exactly with BM25."""

    def __init__(self, vocab: dict[str, int], offsets, docs, tfs, lengths, ids: list[str], generation: int):
        self.vocab, self.offsets, self.docs, self.tfs = vocab, offsets, docs, tfs
        self.lengths, self.ids, self.generation = lengths, ids, generation
        self.avg_length = float(lengths.mean()) if len(lengths) else 0.0
        self._scores = np.zeros(len(ids), dtype=np.float64)
        self._norm_for: BM25Params | None = None

    # --- building -----------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[tuple[str, int, str]], generation: int) -> "ImpactCache":
        """Build from (doc id, length, term counts JSON) rows in docno order."""
        vocab: dict[str, int] = {}
        ids: list[str] = []
        lengths: list[int] = []
        term_chunks, doc_chunks, tf_chunks = [], [], []
        terms_buf: list[int] = []
        docs_buf: list[int] = []
        tfs_buf: list[int] = []
        add_term = vocab.setdefault
        for doc_id, length, terms in rows:
            index = len(ids)
            ids.append(doc_id)
            lengths.append(length)
            for term, tf in json.loads(terms).items():
                terms_buf.append(add_term(term, len(vocab)))
                docs_buf.append(index)
                tfs_buf.append(tf)
            if len(terms_buf) > 1_000_000:
                term_chunks.append(np.array(terms_buf, dtype=np.int32))
                doc_chunks.append(np.array(docs_buf, dtype=np.int32))
                tf_chunks.append(np.array(tfs_buf, dtype=np.float32))
                terms_buf, docs_buf, tfs_buf = [], [], []
        term_chunks.append(np.array(terms_buf, dtype=np.int32))
        doc_chunks.append(np.array(docs_buf, dtype=np.int32))
        tf_chunks.append(np.array(tfs_buf, dtype=np.float32))
        term_ids = np.concatenate(term_chunks)
        order = np.argsort(term_ids, kind="stable")  # stable: documents stay in docno order
        offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=offsets[1:])
        return cls(vocab, offsets, np.concatenate(doc_chunks)[order], np.concatenate(tf_chunks)[order],
                   np.array(lengths, dtype=np.float32), ids, generation)

    def save(self, directory: Path) -> None:
        """Write ``postings.npz`` atomically (a failure to write leaves the old file).

        Raises OSError when the directory is not writable or an id holds a NUL character."""
        if any(_SEP in doc_id for doc_id in self.ids):
            raise OSError("a document id holds a NUL character; the postings cache stays in memory")
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        fd, tmp = tempfile.mkstemp(prefix=".postings.", suffix=".npz", dir=directory)
        try:
            os.fchmod(fd, 0o644)  # mkstemp's file is private; the index's other files are 0644
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, offsets=self.offsets, docs=self.docs, tfs=self.tfs, lengths=self.lengths,
                         generation=np.int64(self.generation),
                         vocab=np.frombuffer(_SEP.join(vocab).encode(), dtype=np.uint8),
                         ids=np.frombuffer(_SEP.join(self.ids).encode(), dtype=np.uint8))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, directory / CACHE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, directory: Path, generation: int) -> "ImpactCache | None":
        """The saved cache when it matches ``generation``, else None."""
        path = directory / CACHE
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if int(data["generation"]) != generation:
                    return None
                vocab_blob, ids_blob = data["vocab"].tobytes().decode(), data["ids"].tobytes().decode()
                vocab = {t: i for i, t in enumerate(vocab_blob.split(_SEP))} if vocab_blob else {}
                ids = ids_blob.split(_SEP) if ids_blob else []
                return cls(vocab, data["offsets"], data["docs"], data["tfs"], data["lengths"], ids, generation)
        except (OSError, ValueError, KeyError):
            return None  # damaged or foreign: rebuilt by the caller

    # --- search -------------------------------------------------------------------------------
    def doc_freqs(self, terms) -> dict[str, int]:
        """``term -> number of documents holding it`` (0 for a term no document has)."""
        out = {}
        for term in terms:
            v = self.vocab.get(term)
            out[term] = 0 if v is None else int(self.offsets[v + 1] - self.offsets[v])
        return out

    def search(self, query_terms: dict[str, int], k: int, params: BM25Params,
               allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (doc id, score) for a query given as term -> count; ties by doc id descending.

        ``allowed``: a boolean mask over the cache's documents (``ids``); others are not returned."""
        if self._norm_for != params:
            avg = self.avg_length or 1.0
            self._norm = (params.k1 * (1.0 - params.b) + params.k1 * params.b * self.lengths / avg).astype(np.float64)
            self._norm_for = params
        n_docs = len(self.ids)
        scores = self._scores
        touched = []
        for term, count in query_terms.items():
            term_id = self.vocab.get(term)
            if term_id is None:
                continue
            start, end = self.offsets[term_id], self.offsets[term_id + 1]
            docs, tfs = self.docs[start:end], self.tfs[start:end]
            weight = count * idf(n_docs, int(end - start))
            scores[docs] += weight * tfs / (tfs + self._norm[docs])
            touched.append(docs)
        if not touched:
            return []
        if len(touched) == 1:
            candidates = touched[0]
        elif sum(len(t) for t in touched) * 8 < n_docs:
            candidates = np.unique(np.concatenate(touched))
        else:  # many postings: one pass over the dense scores is cheaper than sorting them
            candidates = np.flatnonzero(scores)
        values = scores[candidates]
        scores[candidates] = 0.0
        if allowed is not None:
            keep = allowed[candidates]
            candidates, values = candidates[keep], values[keep]
        return top_k(candidates, values, self.ids.__getitem__, k)
