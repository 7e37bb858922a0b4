"""The lexical (BM25) index directory: create, open, add, delete, commit and search.

A commit is crash-safe. The document store (SQLite) decides what is committed:

1. the batch's rows are inserted into the store inside an open transaction;
2. the batch's postings are added to tantivy, and tantivy commits;
3. the store's transaction commits; then the manifest is rewritten.

A crash before 3 leaves the store at the previous commit. tantivy may then hold postings of
documents the store does not know: searches ignore them (candidates are looked up in the store),
and the next writer deletes them before it adds anything. Deletes are recorded in the store first
(``pending_deletes``) and applied to tantivy by the writer, so they survive a crash too.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import json
from collections import Counter
from pathlib import Path
from typing import Any

import babelir
from babelir.errors import BabelirError, IndexFormatError
from babelir.index.bm25 import BM25Params, score_candidates
from babelir.index.docstore import DocStore
from babelir.index.manifest import FORMAT, FORMAT_VERSION, MANIFEST, read_manifest, sha256_file, write_manifest
from babelir.run import Descending
from babelir.text.analyzer import Analyzer, analyzer_from_config, get_analyzer
from babelir.types import Doc

DOCSTORE = "docs.sqlite"
POSTINGS = "lexical"


class LexicalIndex:
    """A BM25 index directory. Use :meth:`create` or :meth:`open`; close it (or use ``with``)."""

    def __init__(self, directory: Path, manifest: dict[str, Any], writable: bool, analyzer: Analyzer | None = None):
        from babelir.index.postings import Postings

        self.directory = directory
        self.manifest = manifest
        self.writable = writable
        self.analyzer: Analyzer = analyzer or analyzer_from_config(manifest["analyzer"])
        self.params = BM25Params(**manifest["bm25"])
        self.store = DocStore(directory / DOCSTORE, readonly=not writable)
        self.postings = Postings(directory / POSTINGS)
        self._cache: dict[int, tuple[str, int, dict[str, int]]] = {}
        count, total, top = self.store.stats()
        self._doc_count, self._total_length, self._next_docno = count, total, max(top, self.store.get_meta("top_docno", -1)) + 1
        if writable:
            self._recover()

    # --- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, analyzer: Analyzer | None = None,
               params: BM25Params | None = None) -> "LexicalIndex":
        """Create an empty index in ``directory`` (which must not hold an index already)."""
        from babelir.index.postings import Postings

        directory = Path(directory)
        if (directory / MANIFEST).exists():
            raise BabelirError(f"{directory}: an index exists already (open it to add documents)")
        if directory.exists() and any(directory.iterdir()):
            raise BabelirError(f"{directory}: directory is not empty and holds no babelir index")
        analyzer = analyzer or get_analyzer()
        params = params or BM25Params()
        directory.mkdir(parents=True, exist_ok=True)
        DocStore(directory / DOCSTORE).close()
        postings = Postings(directory / POSTINGS, create=True)
        postings.commit()
        postings.close()
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "babelir_version": babelir.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "analyzer": analyzer.config(), "bm25": {"k1": params.k1, "b": params.b},
            "encoder": None, "doc_count": 0, "total_terms": 0, "languages": {}, "checksums": {},
        }
        index = cls(directory, manifest, writable=True, analyzer=analyzer)
        index._write_manifest()
        return index

    @classmethod
    def open(cls, directory: str | Path, writable: bool = False) -> "LexicalIndex":
        """Open an existing index; checks its manifest (format and analyzer)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise IndexFormatError(f"{directory}: no such index directory")
        manifest = read_manifest(directory)
        for part in (DOCSTORE, POSTINGS):
            if not (directory / part).exists():
                raise IndexFormatError(f"{directory}: damaged index, {part} is missing")
        return cls(directory, manifest, writable)

    def close(self) -> None:
        self.postings.close()
        self.store.close()

    def __enter__(self) -> "LexicalIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- facts --------------------------------------------------------------------------------
    @property
    def doc_count(self) -> int:
        return self._doc_count

    def ids(self) -> set[str]:
        """Ids of the committed documents."""
        return self.store.ids()

    # --- writes -------------------------------------------------------------------------------
    def _recover(self) -> None:
        """Undo what an interrupted commit left in tantivy: extra postings, unapplied deletes."""
        top = self._next_docno - 1
        pending = self.store.get_meta("pending_deletes", [])
        if self.postings.max_docno() > top or pending:
            self.postings.delete_above(top)
            self.postings.delete_docnos(pending)
            self.postings.commit()
            self.store.set_meta("pending_deletes", [])
            self._write_manifest()

    def add(self, docs: list[Doc], lang_sources: list[str] | None = None) -> None:
        """Add a batch of documents and commit it (all of the batch, or none of it)."""
        self._require_writable()
        rows, analysed = [], []
        for i, doc in enumerate(docs):
            terms = self.analyzer.analyze(f"{doc.title}\n{doc.text}" if doc.title else doc.text, doc.lang)
            docno = self._next_docno + i
            source = lang_sources[i] if lang_sources else ("given" if doc.lang else None)
            rows.append((docno, doc.id, doc.lang, source, doc.title, doc.text, len(terms), Counter(terms)))
            analysed.append((docno, terms))
        self.store.begin()
        try:
            for docno, terms in analysed:
                self.postings.add(docno, terms)
            self.store.insert(rows)
            self.store.set_meta("top_docno", self._next_docno + len(docs) - 1)
            self.postings.commit()
            self.store.commit()
        except BaseException:
            self.store.rollback()
            self.postings.rollback()
            raise
        self._next_docno += len(docs)
        self._doc_count += len(docs)
        self._total_length += sum(row[6] for row in rows)
        self._write_manifest()

    def delete(self, ids: list[str]) -> int:
        """Delete documents by id and commit; returns how many existed."""
        self._require_writable()
        self.store.begin()
        removed = self.store.delete_ids(ids)
        self.store.set_meta("pending_deletes", removed)
        self.store.commit()
        self.postings.delete_docnos(removed)
        self.postings.commit()
        self.store.set_meta("pending_deletes", [])
        self._doc_count, self._total_length, _ = self.store.stats()
        self._cache.clear()
        self._write_manifest()
        return len(removed)

    def _require_writable(self) -> None:
        if not self.writable:
            raise BabelirError(f"{self.directory}: index opened read-only")

    def _write_manifest(self) -> None:
        self.manifest.update(
            doc_count=self._doc_count, total_terms=self._total_length, languages=self.store.languages(),
            checksums={"lexical/meta.json": sha256_file(self.directory / POSTINGS / "meta.json")})
        write_manifest(self.directory, self.manifest)

    # --- search -------------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, lang: str | None = None) -> list[tuple[str, float]]:
        """The top ``k`` (doc id, BM25 score) for a query, best first (ties: doc id, descending)."""
        query_terms = Counter(self.analyzer.analyze(text, lang))
        if not query_terms or self._doc_count == 0:
            return []
        docnos = self.postings.matching(list(query_terms))
        candidates = self._lookup(docnos)
        scores = score_candidates(query_terms, [(length, counts) for _, length, counts in candidates],
                                  self._doc_count, self._total_length / self._doc_count, self.params)
        best = heapq.nsmallest(k, zip(scores, (doc_id for doc_id, _, _ in candidates)),
                               key=lambda pair: (-pair[0], Descending(pair[1])))
        return [(doc_id, score) for score, doc_id in best if score > 0]

    def refresh(self) -> None:
        """See documents committed since this index was opened (by another process)."""
        self.postings.refresh()
        self._doc_count, self._total_length, _ = self.store.stats()
        self._cache.clear()

    def _lookup(self, docnos: list[int]) -> list[tuple[str, int, dict[str, int]]]:
        """(id, length, term counts) of the committed documents among ``docnos``."""
        missing = [n for n in docnos if n not in self._cache]
        if missing:
            if len(self._cache) > 500_000:
                self._cache.clear()
            for docno, doc_id, length, terms in self.store.postings_rows(missing):
                self._cache[docno] = (doc_id, length, json.loads(terms))
        return [self._cache[n] for n in docnos if n in self._cache]

    def documents(self, ids: list[str]) -> dict[str, tuple[str | None, str, str]]:
        """``id -> (lang, title, text)`` of stored documents."""
        return self.store.documents(ids)
