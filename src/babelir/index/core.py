"""The index directory: create, open, add, delete, commit and search (BM25, and dense vectors).

A commit is crash-safe. The document store (SQLite) decides what is committed:

1. the batch's postings are written as a new segment file under a name no other write uses
   (``lexical/NAME.seg``, :mod:`babelir.index.segments`), fsynced;
2. inside one store transaction: the batch's rows are inserted and the segment joins the live
   segment list (meta ``segments``);
3. the transaction commits; then the manifest is rewritten, and the writer may merge segments.

Writes hold the index's writer lock (:mod:`babelir.index.writing`): one writer at a time, and a
writer that starts after another process committed first reloads what that commit changed.
A new index is set up under a marker file (``creating.babelir``) and becomes an index when its
manifest is written, so an interrupted creation is recognised and started again.

A crash before 3 leaves the store at the previous commit and a segment file it does not list:
searches never read it, and the next writer removes it. A delete is one store transaction: the
documents leave ``docs`` and their docnos join ``deleted``, which searches mask out
(:mod:`babelir.index.lexical`). A merge (:meth:`Index._merge`) joins segments of similar size
into a new file, dropping deleted documents, and swaps it into the list in one transaction; the
files it replaced are removed after that commit (or, after a crash, by the next writer). A merge
changes no document, so it does not advance the commit generation.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import babelir
from babelir.errors import BabelirError, IndexFormatError
from babelir.index.bm25 import BM25Params
from babelir.index.docstore import DocStore
from babelir.index.vectors import IndexVectors, _sparse_config
from babelir.index.manifest import FORMAT, FORMAT_VERSION, MANIFEST, read_manifest, write_manifest
from babelir.index.writing import CREATING, LOCK, WriterLock, storage_errors
from babelir.text.analyzer import Analyzer, analyzer_from_config, get_analyzer
from babelir.types import Doc, passage

DOCSTORE = "docs.sqlite"
POSTINGS = "lexical"  # the postings segments' folder
MANY_DOCS = 100  # analysing this many documents at once, a process cuts many new words (e5_pieces.LEAN_WORDS)


class Index(IndexVectors):
    """A BM25 index directory. Use :meth:`create` or :meth:`open`; close it (or use ``with``)."""

    mirror_writes = True  # an index mirrored into Milvus: add / delete reach it at once (a build: at its end)

    def __init__(self, directory: Path, manifest: dict[str, Any], writable: bool, analyzer: Analyzer | None = None):
        self.directory = directory
        self.manifest = manifest
        self.writable = writable
        self.analyzer: Analyzer = analyzer or analyzer_from_config(manifest["analyzer"], directory)
        self.params = BM25Params(**manifest["bm25"])
        with storage_errors(directory):
            self.store = DocStore(directory / DOCSTORE, readonly=not writable)
        self._lexical = None  # (the store's lexical_key, Lexical, the store's version when last checked)
        self._encoder = None
        self._dense = None  # (generation, DenseVectors)
        self._sparse = None  # (generation, SparseVectors)
        self._masks: dict = {}  # language-filter masks of one commit generation (see _language_mask)
        self._ann = None  # (generation, (record, graphs) or None)
        self._coverage: dict = {}  # kind -> (generation, (covered, documents))
        self._lock = WriterLock(directory)
        self._holds = 0  # nesting depth of writing()
        self.wait = 0.0  # seconds a write waits for another process's writer lock
        self._generation = None
        self._sync(reload_manifest=False)

    # --- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, analyzer: Analyzer | None = None,
               params: BM25Params | None = None, encoder=None, dense: bool = True, sparse: bool = False) -> "Index":
        """Create an empty index in ``directory`` (which must not hold an index already).

        With an ``encoder``, every document added also gets a dense vector (``dense``) and/or a
        learned sparse vector (``sparse``)."""
        from babelir.index import segments

        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise BabelirError(f"{directory}: exists and is not a directory (an index is a directory)")
        if (directory / MANIFEST).exists():
            raise BabelirError(f"{directory}: an index exists already (open it to add documents)")
        analyzer = analyzer or get_analyzer()
        params = params or BM25Params()
        if directory.is_dir():  # refused before the lock file is made: a refusal leaves the directory as it was
            _refuse_foreign(directory)
        with storage_errors(directory):
            directory.mkdir(parents=True, exist_ok=True)
        lock = WriterLock(directory)
        lock.acquire()
        try:
            with storage_errors(directory):
                _clear_interrupted_creation(directory)
                # a plain write: the marker's existence is what counts, and creating a file is atomic
                # (an atomic write's temporary file, killed before its rename, would be a stranger)
                (directory / CREATING).write_text("a babelir index is being created here\n", encoding="utf-8")
                if hasattr(analyzer, "save"):  # analyzers with a model keep it in the index
                    analyzer.save(directory)
                DocStore(directory / DOCSTORE).close()
                segments.make_folder(directory / POSTINGS)
        except BaseException:
            lock.release()
            raise
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "babelir_version": babelir.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "analyzer": analyzer.config(), "bm25": {"k1": params.k1, "b": params.b},
            "encoder": encoder.config() if encoder is not None and dense else None,
            "sparse": _sparse_config(encoder) if encoder is not None and sparse else None, "doc_count": 0, "total_terms": 0, "languages": {}, "checksums": {},
        }
        index = cls(directory, manifest, writable=True, analyzer=analyzer)
        index._encoder = encoder
        try:
            with storage_errors(directory):
                index._write_manifest()  # the index exists from here on
                (directory / CREATING).unlink(missing_ok=True)
        finally:
            lock.release()
        return index

    @classmethod
    def open(cls, directory: str | Path, writable: bool = False) -> "Index":
        """Open an existing index; checks its manifest (format and analyzer)."""
        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise IndexFormatError(f"{directory}: not a directory (an index is a directory)")
        if not directory.is_dir():
            raise IndexFormatError(f"{directory}: no such index directory")
        manifest = read_manifest(directory)
        for part in (DOCSTORE, POSTINGS):
            if not (directory / part).exists():
                raise IndexFormatError(f"{directory}: damaged index, {part} is missing")
        return cls(directory, manifest, writable)

    @property
    def postings_folder(self) -> Path:
        """Where the postings segments are (``INDEX/lexical``)."""
        return self.directory / POSTINGS

    def close(self) -> None:
        self._lexical = None
        self._lock.release()
        self.store.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- facts --------------------------------------------------------------------------------
    @property
    def doc_count(self) -> int:
        """Documents in the latest commit (another process's commits included)."""
        self._sync()
        return self._doc_count

    def _sync(self, reload_manifest: bool = True) -> None:
        """Follow the store's latest commit (this process's or another's): counts, next docno and,
        when the commit generation changed, the manifest."""
        generation = self.store.generation()
        if generation == self._generation:
            return
        count, total, top = self.store.stats()
        self._doc_count, self._total_length = count, total
        # the counts keep the top docno through deletes; a store written before them kept it apart
        self._next_docno = max(top, self.store.get_meta("top_docno", -1)) + 1
        if reload_manifest and (self.directory / MANIFEST).exists():
            self.manifest = read_manifest(self.directory)
            self.params = BM25Params(**self.manifest["bm25"])
        self._generation = generation

    @contextmanager
    def writing(self, wait: float | None = None) -> Iterator["Index"]:
        """Hold the writer lock for the block (nested blocks share it), after catching up with
        commits other processes made and undoing what an interrupted one left. Raises
        :class:`~babelir.index.writing.IndexBusy` when another process keeps the lock beyond
        ``wait`` seconds (default :attr:`wait`); storage failures become one-line BabelirErrors."""
        self._require_writable()
        if self._holds == 0:
            self._lock.acquire(self.wait if wait is None else wait)
            try:
                with storage_errors(self.directory):
                    self._sync()
                    self._recover()
            except BaseException:
                self._lock.release()
                raise
        self._holds += 1
        try:
            with storage_errors(self.directory):
                yield self
        finally:
            self._holds -= 1
            if self._holds == 0:
                self._lock.release()

    def ids(self) -> set[str]:
        """Ids of the committed documents."""
        return self.store.ids()

    # --- writes -------------------------------------------------------------------------------
    def _recover(self) -> None:
        """Remove the segment files an interrupted commit or merge left (the store lists none of them)."""
        from babelir.index.segments import remove_unlisted

        remove_unlisted(self.postings_folder, {e["name"] for e in self.store.get_meta("segments", [])})

    def add(self, docs: list[Doc], lang_sources: list[str] | None = None, encoded: tuple | None = None,
            terms: list[list[str]] | None = None) -> None:
        """Add a batch of documents and commit it (all of the batch, or none of it). ``encoded``:
        their vectors from :meth:`encode`, computed beforehand (so that a caller can encode outside
        its own locks); by default they are encoded here. ``terms``: each document's terms from
        this index's analyzer (``analyzer.analyze(passage, doc.lang)``), computed elsewhere (a Ray
        worker, :mod:`babelir.index.ray_build`), or the batch's
        :class:`~babelir.index.segments.Postings` (analysis processes, :mod:`babelir.index.parallel`);
        by default they are analysed here."""
        import sqlite3

        with self.writing():
            try:
                self._add(docs, lang_sources, encoded, terms)
            except sqlite3.IntegrityError:  # nothing was committed (the batch's transaction rolled back)
                held = self.store.documents([d.id for d in docs])
                taken = [d.id for d in docs if d.id in held]
                twice = [i for i, n in Counter(d.id for d in docs).items() if n > 1]
                if taken or twice:
                    raise BabelirError(f"{self.directory}: " + (
                        f"id {taken[0]!r} is already in the index (delete it first to replace it)" if taken else
                        f"id {twice[0]!r} appears twice in the batch") + "; nothing of the batch was added") from None
                raise
            if self.manifest.get("backend"):
                from babelir.index.milvus import sync_write

                sync_write(self)

    def encode(self, docs: list[Doc]) -> tuple:
        """The vectors :meth:`add` stores for ``docs``: (dense (n, dim) float32 or None, learned
        sparse list or None), each None when the index has no such vectors."""
        texts = [d.passage for d in docs]
        vectors = self.encoder.encode_passages(texts) if self.manifest.get("encoder") else None
        sparse = self.encoder.encode_sparse(texts) if self.manifest.get("sparse") else None
        return vectors, sparse

    def _add(self, docs: list[Doc], lang_sources: list[str] | None, encoded: tuple | None = None,
             given_terms=None) -> None:
        from babelir.index.segments import Postings, new_name
        from babelir.text.e5_pieces import expect_many_words

        if isinstance(given_terms, Postings):
            postings = given_terms
        else:
            if given_terms is None and len(docs) >= MANY_DOCS:
                expect_many_words()
            postings = Postings.of(given_terms if given_terms is not None else
                                   [self.analyzer.analyze(doc.passage, doc.lang) for doc in docs])
        lengths = postings.lengths.tolist()
        rows = [(self._next_docno + i, doc.id, doc.lang,
                 lang_sources[i] if lang_sources else ("given" if doc.lang else None), doc.title, doc.text, lengths[i])
                for i, doc in enumerate(docs)]
        if self.manifest.get("backend"):  # Milvus's text field is bounded: refused before anything is committed
            from babelir.index.milvus import check_lengths

            check_lengths(self.directory, [d.id for d in docs], [row[6] for row in rows])
        if encoded is None or (encoded[0] is None) == bool(self.manifest.get("encoder")) \
                or (encoded[1] is None) == bool(self.manifest.get("sparse")):
            encoded = self.encode(docs)  # none given, or the vectors changed since (another writer's commit)
        vectors, sparse = encoded
        folder = self.postings_folder
        segment = postings.write(folder, new_name(self.store.generation() + 1), [r[0] for r in rows],
                                 [doc.id for doc in docs])
        try:
            with self.store.transaction():
                self.store.set_meta("segments", self.store.get_meta("segments", []) + [segment])
                self.store.insert(rows)
                self.store.insert_groups((row[0], doc.group) for row, doc in zip(rows, docs) if doc.group)
                if vectors is not None:
                    self._stage_chunk([row[0] for row in rows], vectors)
                if sparse is not None:
                    self._stage_chunk([row[0] for row in rows], sparse, "sparse")
                self.store.set_meta("generation", self.store.generation() + 1)
        except BaseException:
            self._discard(segment["name"])
            raise
        # the writer lock excludes other writers: the counts follow by arithmetic, with no table scan
        self._next_docno += len(docs)
        self._doc_count += len(docs)
        self._total_length += sum(row[6] for row in rows)
        self._generation = self.store.generation()
        self._write_manifest()
        self._merge()

    def _discard(self, name: str) -> None:
        """Remove a segment file an interrupted commit wrote, unless the store lists it: a Ctrl-C
        that lands just after SQLite's COMMIT returned interrupts a commit that took place."""
        from babelir.index.segments import SUFFIX

        try:
            if name not in {entry["name"] for entry in self.store.get_meta("segments", [])}:
                (self.postings_folder / f"{name}{SUFFIX}").unlink(missing_ok=True)
        except Exception:  # noqa: BLE001 - the next writer removes what the store does not list
            pass

    def _merge(self) -> None:
        """Merge segments of similar size when a tier holds too many (:mod:`babelir.index.merging`)."""
        from babelir.index.merging import merge_tiers

        merge_tiers(self)

    def optimize(self, max_docs: int | None = None) -> int:
        """Merge the live segments into as few as the cap allows (:func:`babelir.index.merging.force_merge`);
        returns how many segments were merged away."""
        from babelir.index.merging import MAX_MERGE_DOCS, force_merge

        with self.writing():
            return force_merge(self, max_docs or MAX_MERGE_DOCS)

    def delete(self, ids: list[str]) -> int:
        """Delete documents by id and commit; returns how many existed."""
        with self.writing():
            with self.store.transaction():
                removed = self.store.delete_ids(ids)
                self.store.set_meta("generation", self.store.generation() + 1)
            self._sync(reload_manifest=False)
            self._write_manifest()
            if removed and self.manifest.get("backend"):
                from babelir.index.milvus import sync_write

                sync_write(self, deleted=list(ids))
        return len(removed)

    def _language_mask(self, kind: str, keys, doc_langs: set[str]):
        """A boolean array over ``keys`` (docnos of the ``kind`` vectors): whether each one's
        document is in one of ``doc_langs``. Kept per commit generation, kind and languages."""
        import numpy as np

        generation = self.store.generation()
        if self._masks.get("generation") != generation:
            self._masks = {"generation": generation}
        key = (kind, frozenset(doc_langs))
        if key not in self._masks:
            langs = self.store.lang_map()
            keys = [int(n) for n in keys]
            self._masks[key] = np.fromiter((langs.get(k) in doc_langs for k in keys), dtype=bool, count=len(keys))
        return self._masks[key]

    def language_filter(self, codes) -> set[str] | None:
        """``codes`` (an iterable of language codes, or a comma-separated string; None for no
        filter) as the set of canonical codes a search keeps; a code the index holds no document of
        is a user error that lists the languages it holds."""
        from babelir.types import normalize_lang

        if codes is None:
            return None
        if isinstance(codes, str):
            codes = codes.split(",")
        wanted = {normalize_lang(c) for c in codes if c and c.strip()}
        if not wanted:
            raise BabelirError("the language filter names no language")
        held = self.store.languages()
        unknown = sorted(wanted - set(held))
        if unknown:
            raise BabelirError(f"{self.directory}: no documents in {', '.join(unknown)} "
                               f"(the index holds: {', '.join(sorted(held)) or 'nothing'})")
        return wanted

    def _require_writable(self) -> None:
        if not self.writable:
            raise BabelirError(f"{self.directory}: index opened read-only")

    def set_fusion_weights(self, modes: Sequence[str], fusion: str, by_lang: dict[str, list[float]],
                           tuned_on: dict) -> None:
        """Record per-language fusion weights (``babelir tune``) in the manifest; hybrid search
        over the same ``modes`` and ``fusion`` uses them when given no weights."""
        with self.writing():
            self.manifest["fusion_weights"] = {"modes": list(modes), "fusion": fusion, "by_lang": by_lang,
                                               "tuned_on": tuned_on}
            write_manifest(self.directory, self.manifest)

    def _write_manifest(self) -> None:
        self.manifest.update(
            doc_count=self._doc_count, total_terms=self._total_length, languages=self.store.languages(),
            checksums={f"{POSTINGS}/{e['name']}.seg": e["sha256"] for e in self.store.get_meta("segments", [])})
        write_manifest(self.directory, self.manifest)

    # --- search -------------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, lang: str | None = None,
               doc_langs: set[str] | None = None) -> list[tuple[str, float]]:
        """The top ``k`` (doc id, BM25 score) for a query, best first (ties: doc id, descending);
        ``doc_langs``: only documents of these languages."""
        query_terms = Counter(self.analyzer.analyze(text, lang))
        if not query_terms:
            return []
        lexical = self.lexical()  # follows the store's latest commit
        allowed = None if doc_langs is None else lexical.language_mask(doc_langs, self.store.lang_map)
        return lexical.search(query_terms, k, self.params, allowed=allowed)

    def term_stats(self, text: str, lang: str | None, ids: list[str]) -> tuple[dict[str, float], dict[str, set[str]]]:
        """The BM25 IDF of each term of ``text`` as a query in ``lang`` (analysed as :meth:`search`
        does; :func:`babelir.index.bm25.idf`), and the terms each of ``ids`` was indexed with."""
        from babelir.index.bm25 import idf

        terms = set(self.analyzer.analyze(text, lang))
        lexical = self.lexical()
        freqs = lexical.doc_freqs(terms)
        count = lexical.count
        return ({t: idf(count, f) for t, f in freqs.items()},
                {d: set(found) for d, found in self.doc_terms(ids).items()})

    def doc_terms(self, ids: list[str]) -> dict[str, Counter]:
        """``id -> {term: count}``: the terms each of ``ids`` (those that exist) was indexed with,
        analysed again from the stored text and language (analysis is deterministic)."""
        return {doc_id: Counter(self.analyzer.analyze(passage(title, text), lang))
                for doc_id, (lang, title, text) in self.store.documents(ids).items()}

    def lexical(self):
        """The postings segments of the latest commit, memory-mapped
        (:class:`babelir.index.lexical.Lexical`; opened again when a commit or merge changed them)."""
        import numpy as np

        from babelir.index.lexical import Lexical

        version = self.store.version()
        if self._lexical is not None and (self._lexical[2] == version or self._lexical[0] == self.store.lexical_key()):
            self._lexical = (*self._lexical[:2], version)
            return self._lexical[1]
        for _ in range(10):
            key, listing, deleted = self.store.lexical_state()
            try:
                lexical = Lexical(self.postings_folder, listing, np.asarray(deleted, dtype=np.int64))
            except FileNotFoundError:
                continue  # a merge replaced a segment after the list was read: read it again
            self._lexical = (key, lexical, version)
            return lexical
        raise IndexFormatError(f"{self.directory}: damaged index, a postings segment the store lists is missing")

    def documents(self, ids: list[str]) -> dict[str, tuple[str | None, str, str]]:
        """``id -> (lang, title, text)`` of stored documents."""
        return self.store.documents(ids)

    @property
    def has_groups(self) -> bool:
        """Whether any committed document has a group (:attr:`babelir.types.Doc.group`)."""
        return self.store.has_groups()

    def groups(self, ids: list[str]) -> dict[str, str]:
        """``id -> group`` of the given documents that have one."""
        return self.store.groups(ids)


def _refuse_foreign(directory: Path) -> None:
    """Refuse a directory that holds something other than an index or an interrupted creation's
    leftovers (checked again under the writer lock by :func:`_clear_interrupted_creation`)."""
    if (directory / MANIFEST).exists() or (directory / CREATING).exists():
        return
    if any(p.name != LOCK for p in directory.iterdir()):
        raise BabelirError(f"{directory}: directory is not empty and holds no babelir index")


def _clear_interrupted_creation(directory: Path) -> None:
    """Remove what an interrupted :meth:`Index.create` left (recognised by its marker file);
    refuse a directory that holds anything else."""
    import shutil

    if (directory / MANIFEST).exists():  # another process created it while this one waited
        raise BabelirError(f"{directory}: an index exists already (open it to add documents)")
    leftovers = [p for p in directory.iterdir() if p.name != LOCK]
    if not leftovers:
        return
    if not (directory / CREATING).exists():
        raise BabelirError(f"{directory}: directory is not empty and holds no babelir index")
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
