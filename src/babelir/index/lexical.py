"""BM25 over an index's live postings segments (:mod:`babelir.index.segments`), exact, in numpy.

The segments of one commit are searched as one collection: a document is a row of the
concatenated segments (``starts[s] + row``). Deleted documents stay in their segment until a merge
drops them; a mask hides them from results. The collection statistics follow Lucene's convention:
the document count N, the average length and each term's document frequency count every
document of the live segments, deleted ones included, until a merge removes them (on a freshly
built index, and after a merge that leaves no deleted document, they are exact).

    idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
    score(d) = sum over query terms t (with their count) of idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avglen))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from babelir.index.bm25 import BM25Params, idf
from babelir.index.segments import SUFFIX, Segment, term_hash


class Lexical:
    """The live segments of one commit, memory-mapped. ``listing``: the store's segment entries
    (:func:`babelir.index.segments.write_segment`); ``deleted``: docnos deleted since."""

    def __init__(self, folder: Path, listing: list[dict], deleted: np.ndarray):
        self.segments = [Segment(folder / f"{entry['name']}{SUFFIX}") for entry in listing]
        sizes = [segment.size for segment in self.segments]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.count = int(self.starts[-1])  # N, deleted documents included (see the module's note)
        total = sum(entry["length"] for entry in listing)
        self.avg_length = total / self.count if self.count else 0.0
        self.live = None
        if len(deleted):
            self.live = np.concatenate([~np.isin(s.docnos, deleted) for s in self.segments]) if sizes else None
        self._norm, self._norm_for = None, None
        self._masks: dict = {}

    def docnos(self) -> np.ndarray:
        """The docno of every row (deleted ones included), int64 (N,)."""
        return np.concatenate([np.asarray(s.docnos) for s in self.segments] or [np.empty(0, dtype=np.int64)])

    def language_mask(self, doc_langs: set[str], lang_map: Callable[[], dict[int, str]]) -> np.ndarray:
        """A boolean mask over rows: whether each document is in one of ``doc_langs``
        (``lang_map()``: docno -> language of every document). Kept per language set."""
        key = frozenset(doc_langs)
        if key not in self._masks:
            langs = lang_map()
            docnos = self.docnos().tolist()
            self._masks[key] = np.fromiter((langs.get(n) in doc_langs for n in docnos), dtype=bool, count=len(docnos))
        return self._masks[key]

    def _slices(self, terms: list[str]) -> tuple[list[tuple[int, int, int, int]], np.ndarray]:
        """Where each term's postings lie: (term, segment, start, end), and each term's df."""
        encoded = [t.encode("utf-8", "surrogatepass") for t in terms]
        hashes = np.fromiter((term_hash(t) for t in encoded), dtype=np.uint64, count=len(encoded))
        slices, df = [], np.zeros(len(terms), dtype=np.int64)
        for number, segment in enumerate(self.segments):
            for term, row in enumerate(segment.lookup(encoded, hashes).tolist()):
                if row >= 0:
                    start, end = int(segment.offsets[row]), int(segment.offsets[row + 1])
                    df[term] += end - start
                    slices.append((term, number, start, end))
        return slices, df

    def doc_freqs(self, terms) -> dict[str, int]:
        """``term -> number of documents holding it`` (0 for a term no document has)."""
        terms = list(terms)
        return dict(zip(terms, self._slices(terms)[1].tolist()))

    def _norms(self, params: BM25Params) -> np.ndarray:
        if self._norm_for != params:
            avg = self.avg_length or 1.0
            lengths = np.concatenate([np.asarray(s.lengths) for s in self.segments] or [np.empty(0)])
            self._norm = params.k1 * (1.0 - params.b) + params.k1 * params.b * lengths.astype(np.float64) / avg
            self._norm_for = params
        return self._norm

    def search(self, query_terms: dict[str, int], k: int, params: BM25Params,
               allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (doc id, score) for a query given as term -> count; ties by doc id descending
        (trec_eval's order). ``allowed``: a boolean mask over rows; deleted documents never come back."""
        terms = list(query_terms)
        slices, df = self._slices(terms)
        if not slices:
            return []
        norm = self._norms(params)
        docs, tfs, weights, sizes = [], [], [], []
        for term, number, start, end in slices:  # the query's postings, gathered, then scored at once
            rows, freqs = self.segments[number].postings(start, end)
            docs.append(rows + self.starts[number] if number else rows)
            tfs.append(freqs)
            weights.append(query_terms[terms[term]] * idf(self.count, int(df[term])))
            sizes.append(end - start)
        docs = np.concatenate(docs)
        tfs = np.concatenate(tfs).astype(np.float64)
        impacts = np.repeat(np.array(weights), sizes) * tfs / (tfs + norm[docs])
        mask = self.live if allowed is None else allowed if self.live is None else self.live & allowed
        if len(docs) * 8 < self.count:  # few postings: sort them rather than scan every document
            candidates, where = np.unique(docs, return_inverse=True)
            values = np.bincount(where, weights=impacts, minlength=len(candidates))
            if mask is not None:
                keep = mask[candidates]
                candidates, values = candidates[keep], values[keep]
        else:  # many: one dense pass over every document's score
            scores = np.bincount(docs, weights=impacts, minlength=self.count)
            if mask is not None:
                scores *= mask
            candidates = np.nonzero(scores > 0)[0]  # a boolean's nonzero is much faster than a float's
            values = scores[candidates]
        return self._top(candidates, values, k)

    def _top(self, candidates: np.ndarray, values: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` best rows with a positive score, named, in trec_eval's order."""
        if len(candidates) > k:
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth  # every tie at the cut stays, then the exact order decides
            candidates, values = candidates[keep], values[keep]
        positive = values > 0
        candidates, values = candidates[positive], values[positive]
        numbers = np.searchsorted(self.starts, candidates, side="right") - 1
        ids = [""] * len(candidates)
        for number in np.unique(numbers).tolist():
            inside = np.flatnonzero(numbers == number)
            for at, doc_id in zip(inside.tolist(), self.segments[number].doc_ids(candidates[inside] - self.starts[number])):
                ids[at] = doc_id
        named = sorted(zip(ids, values.tolist()), reverse=True)  # ids descending, then (stable) scores
        named.sort(key=lambda pair: -pair[1])
        return named[:k]
