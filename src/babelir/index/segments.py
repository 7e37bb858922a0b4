"""Postings segments: babelir's own inverted-index files, one per commit, merged now and then.

A segment holds the postings of a set of documents (one committed batch, or the live documents of
the segments a merge joined) in one immutable file ``INDEX/lexical/NAME.seg``, written before the
store's commit that lists it and never changed afterwards. Layout (little-endian)::

    b"BIRSEG01" | uint64 header length | JSON header | arrays, each aligned to 64 bytes

The header names each array's dtype, length and byte offset:

- ``hashes`` (uint64, V): the vocabulary, sorted by (64-bit blake2b hash of the term's UTF-8, term);
- ``term_offsets`` (int64, V + 1) and ``term_bytes`` (uint8): each term's UTF-8 bytes, kept to tell
  two terms with the same hash apart;
- ``offsets`` (int64, V + 1): term ``t``'s postings are ``[offsets[t], offsets[t + 1])``;
- ``docs`` (int32, P): the document of each posting, as a row of this segment, rows ascending
  within a term; ``tfs`` (uint16, or uint32 when a count exceeds 65,535): its term frequency;
- ``docnos`` (int64, n) and ``lengths`` (int32, n): each row's docno and length in terms;
- ``id_offsets`` (int64, n + 1) and ``id_bytes`` (uint8): each row's document id (UTF-8), so that
  naming the results needs no store lookup.

Readers open a segment with one read-only memory map (:class:`Segment`): opening an index reads
headers only, and a search touches the pages of the terms it looks up.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from babelir.errors import DamagedSegment

SUFFIX = ".seg"
MAGIC = b"BIRSEG01"
_ALIGN = 64


def term_hash(term: bytes) -> int:
    """The 64-bit hash a segment sorts and looks up ``term`` (UTF-8 bytes) by."""
    return int.from_bytes(hashlib.blake2b(term, digest_size=8).digest(), "little")


def new_name(generation: int) -> str:
    """A segment name no other write uses: the commit generation and a random part."""
    return f"s{generation:09d}-{secrets.token_hex(4)}"


def write_segment(folder: Path, name: str, terms: list[bytes], term_ids: np.ndarray, docs: np.ndarray,
                  tfs: np.ndarray, docnos: np.ndarray, lengths: np.ndarray, ids: list[bytes],
                  hashes: np.ndarray | None = None) -> dict:
    """Write a segment file: ``terms`` (UTF-8, distinct), and per posting its term (index into
    ``terms``), document row (into ``docnos`` / ``lengths`` / ``ids``, UTF-8) and frequency, in any
    order. ``hashes``: the terms' :func:`term_hash` where the caller has them (uint64, len(terms)),
    else computed here. Durable when this returns (written to a temporary file, fsynced, renamed).
    Returns the segment's entry in the store's list: ``{"name", "docs" (rows), "length" (their terms, summed), "sha256" (of the file)}``."""
    if hashes is None:
        hashes = np.fromiter((term_hash(t) for t in terms), dtype=np.uint64, count=len(terms))
    order, rank = _ranked(terms, hashes)
    new_terms = rank[term_ids] if len(term_ids) else np.empty(0, dtype=np.int64)
    # by term, then row; stable (timsort): postings that come as runs already in this order
    # (Postings.of's, a segment's) are merged in linear time, not sorted again
    by_term = np.argsort(new_terms * max(len(docnos), 1) + np.asarray(docs, dtype=np.int64), kind="stable")
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(new_terms, minlength=len(terms)), out=offsets[1:])
    id_offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(i) for i in ids], out=id_offsets[1:])
    tf_type = np.uint16 if not len(tfs) or int(tfs.max()) <= 0xFFFF else np.uint32
    arrays = {
        **_vocabulary_arrays(terms, hashes, order), "offsets": offsets, "docs": np.asarray(docs, dtype=np.int32)[by_term],
        "tfs": np.asarray(tfs)[by_term].astype(tf_type),
        "docnos": np.asarray(docnos, dtype=np.int64), "lengths": np.asarray(lengths, dtype=np.int32),
        "id_offsets": id_offsets, "id_bytes": np.frombuffer(b"".join(ids), dtype=np.uint8),
    }
    return _write_file(folder, name, arrays)


def _native():
    """The C loops (:mod:`babelir.index._native`), or None where they were not built."""
    try:
        from babelir.index import _native
    except ImportError:
        return None
    return _native


def hash_order(terms: list[bytes], hashes: np.ndarray) -> np.ndarray:
    """The order of ``terms`` in a segment's vocabulary: by hash, then by bytes where two collide."""
    order = np.argsort(hashes, kind="stable")
    if len(terms) > 1 and bool((np.diff(hashes[order]) == 0).any()):  # a hash collision: order by term too
        order = np.array(sorted(range(len(terms)), key=lambda i: (int(hashes[i]), terms[i])), dtype=np.int64)
    return order


def _ranked(terms: list[bytes], hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`hash_order` of ``terms``, each term's place in it)."""
    order = hash_order(terms, hashes)
    rank = np.empty(len(terms), dtype=np.int64)
    rank[order] = np.arange(len(terms))
    return order, rank


def _vocabulary_arrays(terms: list[bytes], hashes: np.ndarray, order: np.ndarray) -> dict[str, np.ndarray]:
    """A segment's first three arrays, ``hashes``, ``term_offsets`` and ``term_bytes``, of
    ``terms`` put in ``order``."""
    in_order = [terms[i] for i in order.tolist()]
    term_offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in in_order], out=term_offsets[1:])
    return {"hashes": hashes[order], "term_offsets": term_offsets,
            "term_bytes": np.frombuffer(b"".join(in_order), dtype=np.uint8)}


class _Union:
    """Vocabularies joined in first-seen order (:attr:`terms`), each term's hash carried along."""

    def __init__(self):
        self.numbers: dict[bytes, int] = {}
        self._hashes: list[np.ndarray] = []

    def add(self, terms: list[bytes], hashes: np.ndarray) -> np.ndarray:
        """Each of ``terms``' number in the union (int64); ``hashes``: theirs."""
        known, native = len(self.numbers), _native()
        if native is not None:  # the same, in C (the final merge of a 100k build: 1.05 -> 0.77 s)
            mapping = np.frombuffer(native.number(self.numbers, terms), dtype=np.int64)
        else:
            mapping = np.fromiter((self.numbers.setdefault(t, len(self.numbers)) for t in terms), dtype=np.int64,
                                  count=len(terms))
        self._hashes.append(np.asarray(hashes)[mapping >= known])  # a new term first appears in the union's order
        return mapping

    @property
    def terms(self) -> list[bytes]:
        return list(self.numbers)

    @property
    def hashes(self) -> np.ndarray:
        return np.concatenate(self._hashes) if self._hashes else np.empty(0, dtype=np.uint64)


def _write_file(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> dict:
    layout, position = {}, 0
    for key, array in arrays.items():
        layout[key] = [array.dtype.str, int(array.size), position]
        position += -(-array.nbytes // _ALIGN) * _ALIGN
    header = json.dumps({"docs": int(arrays["docnos"].size), "arrays": layout}).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
    digest = hashlib.sha256()
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            def put(data: bytes) -> None:
                handle.write(data)
                digest.update(data)

            head = MAGIC + len(header).to_bytes(8, "little") + header
            put(head + b"\0" * (start - len(head)))
            for key, array in arrays.items():
                data = np.ascontiguousarray(array).tobytes()
                put(data + b"\0" * (-len(data) % _ALIGN))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / f"{name}{SUFFIX}")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return {"name": name, "docs": int(arrays["docnos"].size), "length": int(arrays["lengths"].sum(dtype=np.int64)),
            "sha256": digest.hexdigest()}


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: Path) -> None:
    """Create the segments folder of a new index."""
    folder.mkdir(parents=True, exist_ok=True)


@dataclass
class Postings:
    """The postings of one batch of documents, as the arrays a segment is written from.

    - ``terms``: the distinct terms (UTF-8) and ``hashes`` their :func:`term_hash` (uint64, V);
    - ``term_ids`` (int64, P), ``docs`` (int32, P) and ``tfs`` (int64, P): each posting's term,
      document (a row of the batch) and frequency; rows ascend within a term;
    - ``lengths`` (int64, n): each document's number of terms, repeats counted.

    :meth:`of` builds it from each document's analysed terms (the loops run in C and numpy);
    analysis workers build it per chunk of documents and :meth:`concat` joins the chunks, so the
    committing process only merges their vocabularies.
    """

    terms: list[bytes]
    hashes: np.ndarray
    term_ids: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, term_lists: list[list[str]]) -> "Postings":
        """The postings of documents given as their analysed terms. The terms come in a segment's
        vocabulary order (:func:`hash_order`) and the postings term by term, so that
        :func:`write_segment` finds them in order (a batch of chunks: one sorted run per chunk)."""
        native = _native()
        if native is not None:  # the same, in C: ~2.3x faster with the counting below (it was ~15% of
            # an analysis worker's time)
            codes, vocabulary, lengths = native.factorize(term_lists)
            codes, lengths = np.frombuffer(codes, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64)
        else:
            lengths = np.fromiter(map(len, term_lists), dtype=np.int64, count=len(term_lists))
            flat = list(chain.from_iterable(term_lists))
            numbers = {term: number for number, term in enumerate(dict.fromkeys(flat))}
            vocabulary = list(numbers)
            codes = np.fromiter(map(numbers.__getitem__, flat), dtype=np.int64, count=len(flat))
        terms = [t.encode("utf-8", "surrogatepass") for t in vocabulary]
        hashes = np.fromiter(map(term_hash, terms), dtype=np.uint64, count=len(terms))
        order, rank = _ranked(terms, hashes)
        ids = rank[codes]
        if native is not None:
            term_ids, docs, tfs = (np.frombuffer(array, dtype=dtype) for array, dtype in
                                   zip(native.count_postings(ids, lengths, len(terms)), (np.int64, np.int32, np.int64)))
        else:
            size = max(len(lengths), 1)
            keys, tfs = np.unique(ids * size + np.repeat(np.arange(len(lengths), dtype=np.int64), lengths),
                                  return_counts=True)  # one posting per (term, document), in that order
            term_ids, docs, tfs = keys // size, (keys % size).astype(np.int32), tfs.astype(np.int64)
        return cls([terms[i] for i in order.tolist()], hashes[order], term_ids, docs, tfs, lengths)

    @classmethod
    def concat(cls, parts: list["Postings"], rows: list[np.ndarray] | None = None) -> "Postings":
        """The postings of ``parts``' documents as one batch: in order, or, with ``rows``, each
        part's documents at its rows of the batch (int64, ascending within a part; together every
        row once). Postings are then in order within each part only: :func:`write_segment` sorts."""
        union = _Union()
        term_ids, docs = [], []
        base = 0
        for number, part in enumerate(parts):
            term_ids.append(union.add(part.terms, part.hashes)[part.term_ids])
            docs.append(part.docs + base if rows is None else rows[number][part.docs])
            base += len(part.lengths)
        empty = np.empty(0, dtype=np.int64)
        lengths = np.concatenate([p.lengths for p in parts] or [empty])
        if rows is not None and parts:
            lengths[np.concatenate(rows)] = lengths.copy()
        return cls(union.terms, union.hashes, np.concatenate(term_ids or [empty]), np.concatenate(docs or [empty]).astype(np.int32),
                   np.concatenate([p.tfs for p in parts] or [empty]), lengths)

    def write(self, folder: Path, name: str, docnos, ids: list[str]) -> dict:
        """Write the batch's segment (``docnos``: each document's, ascending; ``ids`` its id);
        returns what :func:`write_segment` returns."""
        return write_segment(folder, name, self.terms, self.term_ids, self.docs, self.tfs,
                             np.asarray(docnos, dtype=np.int64), self.lengths.astype(np.int32),
                             [i.encode("utf-8", "surrogatepass") for i in ids], hashes=self.hashes)


class Segment:
    """One segment file, memory-mapped read-only (its arrays are views of the map).

    A search reads the postings of its terms with :meth:`read_postings` (``os.preadv``), not through
    the map: a page of a mapped file that a process touched counts in its resident memory, and the
    kernel maps file pages in large blocks (whole folios), so a few slices of postings per query
    would soon make a mapped index look resident in full. The vocabulary and the per-document
    arrays, read sparsely, stay mapped."""

    def __init__(self, path: Path):
        import mmap

        import weakref

        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))  # kept for pread
        self._closer = weakref.finalize(self, os.close, self._fd)  # closed with the segment, or by close()
        try:
            self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            raise DamagedSegment(f"{path}: postings file cut short (empty)") from None
        if self._map[:len(MAGIC)] != MAGIC:
            raise DamagedSegment(f"{path}: not a babelir postings segment")
        size = int.from_bytes(self._map[len(MAGIC):len(MAGIC) + 8], "little")
        start = len(MAGIC) + 8
        try:
            header = json.loads(self._map[start:start + size])
            header["docs"], header["arrays"]["id_bytes"][2]  # noqa: B018 (what is read below)
        except (ValueError, KeyError, TypeError, IndexError):
            raise DamagedSegment(f"{path}: damaged header") from None
        base = -(-(start + size) // _ALIGN) * _ALIGN
        self._ids_at = base + header["arrays"]["id_bytes"][2]  # where the ids' bytes start in the map
        self.path = path
        self.size = header["docs"]
        for key, (dtype, count, offset) in header["arrays"].items():
            try:
                setattr(self, key, np.frombuffer(self._map, dtype=np.dtype(dtype), count=count, offset=base + offset))
            except ValueError as error:  # the file is shorter than its header says
                raise DamagedSegment(f"{path}: postings file cut short ({key}: {error})") from None
        self._at = {key: base + offset for key, (_, _, offset) in header["arrays"].items()}
        self.vocabulary = len(self.hashes)
        self.postings_at = (self._fd, self._at["docs"], self._at["tfs"])
        """The file descriptor the postings are read from, and the byte where their rows (int32)
        and their counts (``tfs.dtype``) start in the file."""

    def close(self) -> None:
        """Close the file the postings are read from (the map goes with the last array using it)."""
        self._closer()

    def read_postings(self, start: int, end: int, docs: np.ndarray, tfs: np.ndarray) -> None:
        """Read the rows and frequencies of postings ``[start, end)`` from the file (see the class)
        into ``docs`` (int32) and ``tfs`` (this segment's tfs dtype), each ``end - start`` long."""
        if not hasattr(os, "preadv"):  # Windows, macOS before 11: through the map
            docs[:], tfs[:] = self.docs[start:end], self.tfs[start:end]
            return
        (fd, docs_at, tfs_at), tf_width = self.postings_at, self.tfs.dtype.itemsize
        if (os.preadv(fd, [docs], docs_at + 4 * start) != 4 * (end - start)
                or os.preadv(fd, [tfs], tfs_at + tf_width * start) != tf_width * (end - start)):
            raise DamagedSegment(f"{self.path}: postings file cut short")

    def find(self, term: bytes, hashed: int, at: int) -> int:
        """The row of ``term`` in the vocabulary, or -1; ``at``: searchsorted's answer for ``hashed``."""
        while at < self.vocabulary and int(self.hashes[at]) == hashed:
            if self.term_bytes[self.term_offsets[at]:self.term_offsets[at + 1]].tobytes() == term:
                return at
            at += 1
        return -1

    def lookup(self, terms: list[bytes], hashes: np.ndarray) -> np.ndarray:
        """Each term's vocabulary row (-1 where the segment lacks it)."""
        if not self.vocabulary:
            return np.full(len(terms), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.hashes, hashes), self.vocabulary - 1)
        rows = np.where(self.hashes[at] == hashes, at, -1)  # the hash is there: check the bytes
        starts, ends = self.term_offsets[at].tolist(), self.term_offsets[at + 1].tolist()
        base, data = self._at["term_bytes"], self._map
        for i, (row, term) in enumerate(zip(rows.tolist(), terms)):
            if row >= 0 and data[base + starts[i]:base + ends[i]] != term:
                rows[i] = self.find(term, int(hashes[i]), row + 1)  # another term of the same hash
        return rows

    def doc_ids(self, rows: np.ndarray) -> list[str]:
        """The document ids of ``rows``."""
        starts, ends = self.id_offsets[rows].tolist(), self.id_offsets[rows + 1].tolist()
        at, data = self._ids_at, self._map
        return [data[at + s:at + e].decode("utf-8", "surrogatepass") for s, e in zip(starts, ends)]

    def ids(self) -> list[bytes]:
        """Every row's id (UTF-8), in row order (for merging)."""
        blob, ends = self.id_bytes.tobytes(), self.id_offsets.tolist()
        return [blob[ends[i]:ends[i + 1]] for i in range(self.size)]

    def terms(self) -> list[bytes]:
        """Every term, in vocabulary order (for merging)."""
        blob, ends = self.term_bytes.tobytes(), self.term_offsets.tolist()
        return [blob[ends[i]:ends[i + 1]] for i in range(self.vocabulary)]


def merge_segments(folder: Path, name: str, segments: list[Segment], deleted: np.ndarray) -> dict:
    """Write one segment with the postings of ``segments``' documents not in ``deleted`` (docnos),
    rows in the segments' order. Returns what :func:`write_segment` returns. The terms' hashes are
    carried over, not computed again. When none of the documents is deleted (a build's own
    segments), each term's postings are copied segment after segment into place
    (:func:`_join_segments`), with no sort; the file is the same."""
    if not any(np.isin(segment.docnos, deleted).any() for segment in segments):
        return _join_segments(folder, name, segments)
    union = _Union()
    term_chunks, doc_chunks, tf_chunks, docnos, lengths, ids = [], [], [], [], [], []
    base = 0
    for segment in segments:
        keep = ~np.isin(segment.docnos, deleted)
        term_of = np.repeat(union.add(segment.terms(), segment.hashes), np.diff(segment.offsets))
        docs = np.asarray(segment.docs)
        tfs = np.asarray(segment.tfs).astype(np.uint32)
        if keep.all():  # no deleted document here: the rows only shift
            term_chunks.append(term_of)
            doc_chunks.append(docs + base)
            tf_chunks.append(tfs)
            ids.extend(segment.ids())
        else:
            rows = np.cumsum(keep) - 1 + base  # each kept row's row in the merged segment
            alive = keep[docs]
            term_chunks.append(term_of[alive])
            doc_chunks.append(rows[docs[alive]])
            tf_chunks.append(tfs[alive])
            ids.extend(i for i, k in zip(segment.ids(), keep.tolist()) if k)
        docnos.append(np.asarray(segment.docnos)[keep])
        lengths.append(np.asarray(segment.lengths)[keep])
        base += int(keep.sum())
    term_ids = np.concatenate(term_chunks) if term_chunks else np.empty(0, dtype=np.int64)
    terms, hashes = union.terms, union.hashes
    used = np.zeros(len(terms), dtype=bool)
    used[term_ids] = True  # terms only deleted documents held are dropped
    if not used.all():
        renumber = np.cumsum(used) - 1
        terms, hashes, term_ids = [t for t, u in zip(terms, used.tolist()) if u], hashes[used], renumber[term_ids]
    return write_segment(folder, name, terms, term_ids, np.concatenate(doc_chunks), np.concatenate(tf_chunks),
                         np.concatenate(docnos), np.concatenate(lengths), ids, hashes=hashes)


def _join_segments(folder: Path, name: str, segments: list[Segment]) -> dict:
    """:func:`merge_segments` of segments without a deleted document. A segment's terms are in
    the merged vocabulary's order too (by hash, then bytes), so each segment's postings of a term
    are one block, copied to where the term's postings of the segments before it end; rows shift
    by the documents of the segments before."""
    union = _Union()
    mappings = [union.add(segment.terms(), segment.hashes) for segment in segments]
    terms, hashes = union.terms, union.hashes
    order, rank = _ranked(terms, hashes)
    counts = np.zeros(len(terms), dtype=np.int64)
    ranks = []
    for segment, mapping in zip(segments, mappings):
        ranks.append(rank[mapping])
        counts[ranks[-1]] += np.diff(segment.offsets)  # a segment holds each of its terms once
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    wide = any(segment.tfs.dtype.itemsize > 2 and len(segment.tfs) and int(segment.tfs.max()) > 0xFFFF
               for segment in segments)
    docs = np.empty(total, dtype=np.int32)
    tfs = np.empty(total, dtype=np.uint32 if wide else np.uint16)
    filled = offsets[:-1].copy()  # where each term's next block goes
    base = 0
    for segment, ranked in zip(segments, ranks):
        sizes = np.diff(segment.offsets)
        shift = filled[ranked] - segment.offsets[:-1]  # block start in the merged arrays - in the segment's
        where = np.repeat(shift, sizes) + np.arange(len(segment.docs), dtype=np.int64)
        docs[where] = np.asarray(segment.docs) + base
        tfs[where] = segment.tfs
        filled[ranked] += sizes
        base += segment.size
    id_offsets = [np.zeros(1, dtype=np.int64)]
    at = 0
    for segment in segments:
        id_offsets.append(np.asarray(segment.id_offsets[1:]) + at)
        at += int(segment.id_offsets[-1])
    arrays = {
        **_vocabulary_arrays(terms, hashes, order), "offsets": offsets, "docs": docs, "tfs": tfs,
        "docnos": np.concatenate([np.asarray(s.docnos) for s in segments]),
        "lengths": np.concatenate([np.asarray(s.lengths) for s in segments]),
        "id_offsets": np.concatenate(id_offsets),
        "id_bytes": np.concatenate([np.asarray(s.id_bytes) for s in segments]),
    }
    return _write_file(folder, name, arrays)


def pick_merge(sizes: list[int], per_tier: int = 10, floor: int = 1000, max_docs: int | None = None) -> list[int]:
    """The positions of the segments to merge next, or [] (a tiered policy like Lucene's).

    Segments are put in tiers by size (powers of 10 above ``floor`` documents, smaller ones in
    the first tier); a tier holding more than ``per_tier`` segments has its ``per_tier`` smallest
    merged into one, which then belongs to a higher tier. ``sizes``: each segment's rows.
    ``max_docs``: no merge makes a segment larger (fewer of the smallest are merged, at least two)."""
    tiers: dict[int, list[int]] = {}
    for position, size in enumerate(sizes):
        tier = 0 if size <= floor else int(np.log10(size / floor)) + 1
        tiers.setdefault(tier, []).append(position)
    for tier in sorted(tiers):
        members = tiers[tier]
        if len(members) > per_tier:
            chosen = sorted(members, key=lambda p: sizes[p])[:per_tier]
            if max_docs is not None:
                while len(chosen) > 2 and sum(sizes[p] for p in chosen) > max_docs:
                    chosen.pop()
                if sum(sizes[p] for p in chosen) > max_docs:
                    continue
            return sorted(chosen)
    return []


def remove_unlisted(folder: Path, live: set[str]) -> list[str]:
    """Remove the segment files (and temporary files) of ``folder`` that ``live`` does not name:
    what an interrupted commit or merge left. Returns the names removed."""
    removed = []
    for path in folder.iterdir():
        stem = path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else None
        if (stem is not None and stem not in live) or (path.name.startswith(".") and path.name.endswith(".tmp")):
            try:
                path.unlink()
                removed.append(path.name)
            except OSError:
                pass  # still mapped elsewhere (Windows) or gone: the next writer tries again
    return removed
