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

from babelir.errors import DamagedSegment
from babelir.index.bm25 import BM25Params, idf
from babelir.index.segments import SUFFIX, Segment, _native, term_hash

KERNEL = _native()  # None where no C compiler built it: the numpy path, same scores


class Lexical:
    """The live segments of one commit, memory-mapped. ``listing``: the store's segment entries
    (:func:`babelir.index.segments.write_segment`); ``deleted``: docnos deleted since."""

    def __init__(self, folder: Path, listing: list[dict], deleted: np.ndarray):
        self.folder = folder
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
        self._idle: list[_Buffers] = []  # scoring buffers not in use (list.pop and append are atomic)
        self._tf_type = np.result_type(*[s.tfs.dtype for s in self.segments]) if self.segments else np.uint16
        # for the C reads: each segment's file descriptor and where its postings' rows and counts
        # start (bytes), when every segment's counts are as wide as the buffer's
        self._files = None
        if all(s.tfs.dtype == self._tf_type for s in self.segments):
            at = [s.postings_at for s in self.segments]
            self._files = (*(np.array([a[i] for a in at], dtype=np.int64) for i in range(3)),
                           np.dtype(self._tf_type).itemsize)

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

    def _slices(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Where each term's postings lie, segment by segment, then term by term: int64 (4, S) of the
        term's index in ``terms``, the segment's number, its first and past-last posting; and each
        term's df, int64 (T,)."""
        encoded = [t.encode("utf-8", "surrogatepass") for t in terms]
        hashes = np.fromiter((term_hash(t) for t in encoded), dtype=np.uint64, count=len(encoded))
        parts, df = [], np.zeros(len(terms), dtype=np.int64)
        for number, segment in enumerate(self.segments):
            rows = segment.lookup(encoded, hashes)
            found = np.flatnonzero(rows >= 0)
            starts, ends = segment.offsets[rows[found]], segment.offsets[rows[found] + 1]
            df[found] += ends - starts
            parts.append(np.stack([found, np.full(len(found), number), starts, ends]).astype(np.int64, copy=False))
        return (np.concatenate(parts, axis=1) if parts else np.empty((4, 0), dtype=np.int64)), df

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
        (trec_eval's order). ``allowed``: a boolean mask over rows; deleted documents never come back.
        Raises ValueError for a ``k`` that is not a whole number of 1 or more."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a whole number of 1 or more, not {k!r}")
        k = min(int(k), max(self.count, 1))  # more than every document: every document
        terms = list(query_terms)
        slices, df = self._slices(terms)
        if not slices.shape[1]:
            return []
        # buffers kept between queries, one set per search running at once; a search that raises
        # (Ctrl-C included) drops its set, which may hold a part of its sums
        buffers = self._idle.pop() if self._idle else _Buffers()
        found = self._score(query_terms, terms, slices, df, params, buffers, k, allowed)
        self._idle.append(buffers)
        return found

    def _score(self, query_terms, terms, slices, df, params, buffers, k, allowed) -> list[tuple[str, float]]:
        norm = self._norms(params)
        term, number, start, end = slices
        sizes = end - start
        ends = np.cumsum(sizes)
        total = int(ends[-1])
        buffers.ready(total, self.count, self._tf_type)
        docs, tfs = buffers.docs[:total], buffers.tfs[:total]
        self._read(number, start, sizes, docs, tfs)
        weights = np.array([count * idf(self.count, found) for count, found in zip(query_terms.values(), df.tolist())])
        weights = weights[term]  # each slice's
        mask = self.live if allowed is None else allowed if self.live is None else self.live & allowed
        try:
            if KERNEL is not None:
                touched, values = buffers.touched, buffers.impacts
                count = KERNEL.accumulate(docs, tfs, tfs.itemsize, ends, weights, norm, buffers.sums, touched)
                kept = KERNEL.top(buffers.sums, touched, count, k, mask, values)
                return self._named(touched[:kept], values[:kept], k)
            return self._score_numpy(docs, tfs, ends.tolist(), weights.tolist(), norm, buffers, mask, k)
        except ValueError as error:  # a row outside the collection: a damaged segment
            raise DamagedSegment(f"{self.folder}: {error} (a damaged segment)") from None

    def _read(self, number: np.ndarray, start: np.ndarray, sizes: np.ndarray, docs: np.ndarray, tfs: np.ndarray) -> None:
        """Read the postings of each slice (its segment ``number``, ``start`` and size), one after
        the other, into ``docs`` (as rows of the concatenated segments) and ``tfs``."""
        if KERNEL is not None and hasattr(KERNEL, "read") and self._files is not None:
            fds, docs_at, tfs_at, width = self._files
            stopped = KERNEL.read(fds[number], docs_at[number] + 4 * start, tfs_at[number] + width * start, sizes,
                                  self.starts[number], width, docs, tfs)
            if stopped >= 0:
                raise DamagedSegment(f"{self.segments[number[stopped]].path}: postings file cut short")
            return
        at = 0
        for which, first, size in zip(number.tolist(), start.tolist(), sizes.tolist()):
            segment = self.segments[which]
            if segment.tfs.dtype == tfs.dtype:
                segment.read_postings(first, first + size, docs[at:at + size], tfs[at:at + size])
            else:  # a segment with narrower counts than another
                narrow = np.empty(size, dtype=segment.tfs.dtype)
                segment.read_postings(first, first + size, docs[at:at + size], narrow)
                tfs[at:at + size] = narrow
            if which:
                docs[at:at + size] += int(self.starts[which])
            at += size

    def _score_numpy(self, docs, tfs, ends, weights, norm, buffers, mask, k) -> list[tuple[str, float]]:
        """What :data:`KERNEL` does, in numpy (same scores, bit for bit)."""
        total = len(docs)
        # weight * tf / (tf + norm) of every posting, in buffers kept between queries: temporaries
        # of a query's size (hundreds of KB) would be mapped and unmapped by malloc at every query
        impacts, denominators, rows = buffers.impacts[:total], buffers.denominators[:total], buffers.rows[:total]
        np.copyto(impacts, tfs)
        # the rows as intp: numpy's take and add.at convert any other index type into a temporary
        # first (take: 5x slower with int32)
        np.copyto(rows, docs)
        if total and not 0 <= int(rows.min()) <= int(rows.max()) < len(norm):
            raise ValueError("a posting's row is outside the collection")  # as the C loop says
        np.take(norm, rows, out=denominators)
        denominators += impacts
        for start, end, weight in zip([0] + ends[:-1], ends, weights):
            impacts[start:end] *= weight
        impacts /= denominators
        sums = buffers.sums
        np.add.at(sums, rows, impacts)  # each document's sum, added in the postings' order
        if total * 8 < self.count:  # few postings: sort their documents rather than scan every one
            ordered = np.sort(rows)  # (not np.unique: numpy 2.3+ hashes there, ~40x slower)
            candidates = ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]
        else:
            # every impact is positive; a boolean's nonzero is much faster than a float's
            candidates = np.flatnonzero(np.greater(sums, 0.0, out=buffers.positive))
        values = sums[candidates]
        sums[candidates] = 0.0  # all zero again, for the next query
        if mask is not None:
            keep = mask[candidates]
            candidates, values = candidates[keep], values[keep]
        if len(candidates) > k:
            kth = np.partition(values, len(values) - k)[len(values) - k]
            keep = values >= kth  # every tie at the cut stays, then the exact order decides
            candidates, values = candidates[keep], values[keep]
        return self._named(candidates, values, k)

    def _named(self, candidates: np.ndarray, values: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` best of rows that score at least the k-th best (ties at the cut included),
        named, in trec_eval's order."""
        if len(self.segments) == 1:
            ids = self.segments[0].doc_ids(candidates)
        else:
            numbers = np.searchsorted(self.starts, candidates, side="right") - 1
            ids = [""] * len(candidates)
            for number in sorted(set(numbers.tolist())):
                inside = np.flatnonzero(numbers == number)
                rows = candidates[inside] - self.starts[number]
                for at, doc_id in zip(inside.tolist(), self.segments[number].doc_ids(rows)):
                    ids[at] = doc_id
        named = sorted(zip(values.tolist(), ids), reverse=True)  # scores descending, then ids descending
        return [(doc_id, score) for score, doc_id in named[:k]]


class _Buffers:
    """Buffers for scoring one query at a time, kept between queries and grown as needed: per
    posting ``docs`` (int32, as read), ``tfs``, ``impacts`` (float64; the kernel's scores out),
    ``touched`` (int32: the kernel's rows), and for the numpy path ``rows`` (``docs`` as intp) and
    ``denominators`` (float64); per document ``sums`` (float64, all zero between queries) and
    ``positive`` (bool)."""

    def __init__(self):
        self.docs = self.rows = self.tfs = self.impacts = self.denominators = self.sums = self.positive = None
        self.touched = None

    def ready(self, postings: int, count: int, tf_type) -> None:
        if self.docs is None or len(self.docs) < postings or self.tfs.dtype != tf_type:
            size = max(postings + postings // 4, 1024)
            self.docs, self.tfs = np.empty(size, dtype=np.int32), np.empty(size, dtype=tf_type)
            self.rows, self.touched = np.empty(size, dtype=np.intp), np.empty(size, dtype=np.int32)
            self.impacts, self.denominators = np.empty(size), np.empty(size)
        if self.sums is None or len(self.sums) != count:
            self.sums, self.positive = np.zeros(count), np.empty(count, dtype=bool)
