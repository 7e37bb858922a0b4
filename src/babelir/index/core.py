"""The index directory: create, open, add, delete, commit and search (BM25, and dense vectors).

A commit is crash-safe. The document store (SQLite) decides what is committed:

1. the batch's rows are inserted into the store inside an open transaction;
2. the batch's postings are added to tantivy, and tantivy commits;
3. the store's transaction commits; then the manifest is rewritten.

A crash before 3 leaves the store at the previous commit. tantivy may then hold postings of
documents the store does not know: searches never see them (BM25 reads the postings cache, which is
derived from the store; :mod:`babelir.index.impact`), and the next writer deletes them from tantivy
before it adds anything. Deletes are recorded in the store first
(``pending_deletes``) and applied to tantivy by the writer, so they survive a crash too.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import babelir
from babelir.errors import BabelirError, IndexFormatError
from babelir.index.bm25 import BM25Params
from babelir.index.docstore import DocStore
from babelir.index.manifest import FORMAT, FORMAT_VERSION, MANIFEST, read_manifest, sha256_file, write_manifest
from babelir.text.analyzer import Analyzer, analyzer_from_config, get_analyzer
from babelir.types import Doc

DOCSTORE = "docs.sqlite"
POSTINGS = "lexical"


class Index:
    """A BM25 index directory. Use :meth:`create` or :meth:`open`; close it (or use ``with``)."""

    def __init__(self, directory: Path, manifest: dict[str, Any], writable: bool, analyzer: Analyzer | None = None):
        self.directory = directory
        self.manifest = manifest
        self.writable = writable
        self.analyzer: Analyzer = analyzer or analyzer_from_config(manifest["analyzer"], directory)
        self.params = BM25Params(**manifest["bm25"])
        self.store = DocStore(directory / DOCSTORE, readonly=not writable)
        self._postings = None
        self._impact = None
        self._encoder = None
        self._dense = None  # (generation, DenseVectors)
        self._sparse = None  # (generation, SparseVectors)
        self._masks: dict = {}  # language-filter masks of one commit generation (see _language_mask)
        self._ann = None  # (generation, (record, graphs) or None)
        count, total, top = self.store.stats()
        self._doc_count, self._total_length, self._next_docno = count, total, max(top, self.store.get_meta("top_docno", -1)) + 1
        if writable:
            self._recover()

    # --- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, analyzer: Analyzer | None = None,
               params: BM25Params | None = None, encoder=None, dense: bool = True, sparse: bool = False) -> "Index":
        """Create an empty index in ``directory`` (which must not hold an index already).

        With an ``encoder``, every document added also gets a dense vector (``dense``) and/or a
        learned sparse vector (``sparse``)."""
        from babelir.index.postings import Postings

        directory = Path(directory)
        if (directory / MANIFEST).exists():
            raise BabelirError(f"{directory}: an index exists already (open it to add documents)")
        if directory.exists() and any(directory.iterdir()):
            raise BabelirError(f"{directory}: directory is not empty and holds no babelir index")
        analyzer = analyzer or get_analyzer()
        params = params or BM25Params()
        directory.mkdir(parents=True, exist_ok=True)
        if hasattr(analyzer, "save"):  # analyzers with a model keep it in the index
            analyzer.save(directory)
        DocStore(directory / DOCSTORE).close()
        postings = Postings(directory / POSTINGS, create=True)
        postings.commit()
        postings.close()
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "babelir_version": babelir.__version__,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "analyzer": analyzer.config(), "bm25": {"k1": params.k1, "b": params.b},
            "encoder": encoder.config() if encoder is not None and dense else None,
            "sparse": _sparse_config(encoder) if encoder is not None and sparse else None, "doc_count": 0, "total_terms": 0, "languages": {}, "checksums": {},
        }
        index = cls(directory, manifest, writable=True, analyzer=analyzer)
        index._encoder = encoder
        index._write_manifest()
        return index

    @classmethod
    def open(cls, directory: str | Path, writable: bool = False) -> "Index":
        """Open an existing index; checks its manifest (format and analyzer)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise IndexFormatError(f"{directory}: no such index directory")
        manifest = read_manifest(directory)
        for part in (DOCSTORE, POSTINGS):
            if not (directory / part).exists():
                raise IndexFormatError(f"{directory}: damaged index, {part} is missing")
        return cls(directory, manifest, writable)

    @property
    def postings(self):
        """The tantivy inverted index (opened on first use: searches do not need it)."""
        if self._postings is None:
            from babelir.index.postings import Postings

            self._postings = Postings(self.directory / POSTINGS)
        return self._postings

    def close(self) -> None:
        if self._postings is not None:
            self._postings.close()
        self.store.close()

    def __enter__(self) -> "Index":
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
        texts = [_passage(d) for d in docs]
        vectors = self.encoder.encode_passages(texts) if self.manifest.get("encoder") else None
        sparse = self.encoder.encode_sparse(texts) if self.manifest.get("sparse") else None
        self.store.begin()
        try:
            for docno, terms in analysed:
                self.postings.add(docno, terms)
            self.store.insert(rows)
            self.store.insert_groups((row[0], doc.group) for row, doc in zip(rows, docs) if doc.group)
            if vectors is not None:
                self._stage_chunk([row[0] for row in rows], vectors)
            if sparse is not None:
                self._stage_chunk([row[0] for row in rows], sparse, "sparse")
            self.store.set_meta("top_docno", self._next_docno + len(docs) - 1)
            self.store.set_meta("generation", self.store.generation() + 1)
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
        self.store.set_meta("generation", self.store.generation() + 1)
        self.store.commit()
        self.postings.delete_docnos(removed)
        self.postings.commit()
        self.store.set_meta("pending_deletes", [])
        self._doc_count, self._total_length, _ = self.store.stats()
        self._write_manifest()
        return len(removed)

    # --- dense ---------------------------------------------------------------------------------
    @property
    def encoder(self):
        """The index's encoder (built from the manifest on first use); None without vectors."""
        stored = self.manifest.get("encoder") or (self.manifest.get("sparse") or {}).get("encoder")
        if self._encoder is None and stored:
            from babelir.encode.base import get_encoder

            self._encoder = get_encoder(stored["name"])
            if self._encoder.dim != stored["dim"]:
                raise IndexFormatError(f"{self.directory}: vectors have {stored['dim']} dimensions, "
                                       f"encoder {stored['name']} gives {self._encoder.dim}")
        return self._encoder

    def _stage_chunk(self, docnos: list[int], vectors, kind: str = "dense") -> None:
        import numpy as np

        name = f"c{docnos[0]:012d}-{self.store.generation() + 1}"
        if kind == "dense":
            from babelir.index.dense import write_chunk

            write_chunk(self.directory, name, np.asarray(docnos), vectors)
        else:
            from babelir.index.sparse import write_sparse_chunk

            write_sparse_chunk(self.directory, name, docnos, vectors)
        self.store.add_chunk(name, len(docnos), kind)

    def _covered(self, kind: str) -> set[int]:
        import numpy as np

        folder = self.directory / kind
        return {int(n) for name in self.store.chunks(kind) for n in np.load(folder / f"{name}.docnos.npy")}

    def encode_missing(self, encoder=None, batch_size: int = 1000, quiet: bool = True, kind: str = "dense") -> int:
        """Give every document without a ``dense`` (or ``sparse``) vector one, in committed chunks
        (resumable); returns how many. An index without such vectors takes ``encoder`` (default
        e5-small) and records it."""
        from babelir.progress import progress

        self._require_writable()
        key = "encoder" if kind == "dense" else "sparse"
        if not self.manifest.get(key):
            if encoder is None and self.encoder is None:
                from babelir.encode.base import get_encoder

                encoder = get_encoder()
            self._encoder = self._encoder or encoder
            self.manifest[key] = self._encoder.config() if kind == "dense" else _sparse_config(self._encoder)
            self._write_manifest()
        missing = sorted(set(self.store.id_map()) - self._covered(kind))
        bar = progress(total=len(missing), desc=f"encoding ({kind})", unit="doc", quiet=quiet)
        for start in range(0, len(missing), batch_size):
            rows = self.store.text_rows(missing[start:start + batch_size])
            texts = [f"{t}\n{x}" if t else x for _, t, x in rows]
            vectors = self.encoder.encode_passages(texts) if kind == "dense" else self.encoder.encode_sparse(texts)
            self.store.begin()
            try:
                self._stage_chunk([r[0] for r in rows], vectors, kind)
                self.store.set_meta("generation", self.store.generation() + 1)
                self.store.commit()
            except BaseException:
                self.store.rollback()
                raise
            bar.update(len(rows))
        bar.close()
        return len(missing)

    def search_sparse(self, queries: list[str], k: int = 10, doc_langs: set[str] | None = None,
                      encoded: list | None = None) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, sparse dot product) for each query text (learned sparse retrieval);
        ``doc_langs``: only documents of these languages; ``encoded``: the queries' sparse
        vectors when the caller has them already (``queries`` is then ignored)."""
        from babelir.index.sparse import SparseVectors

        if not self.manifest.get("sparse"):
            raise BabelirError(f"{self.directory}: the index has no sparse vectors (index it with --sparse)")
        generation = self.store.generation()
        if self._sparse is None or self._sparse[0] != generation:
            self._sparse = (generation, SparseVectors(self.directory, self.store.chunks("sparse"),
                                                      self.manifest["sparse"]["dim"], self.store.id_map()))
        sparse = self._sparse[1]
        allowed = None if doc_langs is None else self._language_mask("sparse", sparse.docnos, doc_langs)
        vectors = encoded if encoded is not None else self.encoder.encode_sparse(queries)
        return sparse.search(vectors, k, allowed=allowed)

    def _language_mask(self, kind: str, keys, doc_langs: set[str]):
        """A boolean array over ``keys``: whether each one's document is in one of ``doc_langs``.
        ``kind`` says what the keys are: ``"sparse"`` docnos, ``"bm25"`` doc ids (the postings
        cache's order). Kept per commit generation, kind and languages."""
        import numpy as np

        generation = self.store.generation()
        if self._masks.get("generation") != generation:
            self._masks = {"generation": generation}
        key = (kind, frozenset(doc_langs))
        if key not in self._masks:
            langs = self.store.lang_map()
            if kind == "bm25":
                ids = self.store.id_map()
                langs = {ids[n]: lang for n, lang in langs.items()}
            else:
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

    def dense_vectors(self):
        """The DenseVectors of the latest commit (loaded once per commit generation)."""
        from babelir.index.dense import DenseVectors

        self.require_dense()
        generation = self.store.generation()
        if self._dense is None or self._dense[0] != generation:
            self._dense = (generation, DenseVectors(self.directory, self.store.chunks(), self.store.id_map(),
                                                    self.store.lang_map()))
        return self._dense[1]

    def build_ann(self, **params) -> dict:
        """Build the HNSW graphs over the dense vectors of the latest commit (with the correction
        when the index applies it by default); returns the record saved as ``ann/ann.json``."""
        from babelir.index.ann import build_ann

        vectors = self.dense_vectors()
        return build_ann(self.directory, vectors, self.store.generation(), vectors.corrects_bias, **params)

    def ensure_ann(self, quiet: bool = True, **params) -> dict:
        """The ANN record for the latest commit, building the graphs when missing or stale."""
        from babelir.index.ann import read_record

        record = read_record(self.directory)
        if record is not None and record.get("generation") == self.store.generation() and not params:
            return record
        if not quiet:
            import sys

            print(f"building HNSW graphs over {len(self.dense_vectors())} vectors", file=sys.stderr)
        return self.build_ann(**params)

    def _ann_for(self, debias: bool, doc_langs: set[str] | None):
        """``(record, graphs)`` usable for this search, or None (no graphs, stale, or a mismatch)."""
        from babelir.index.ann import load_ann

        generation = self.store.generation()
        if self._ann is None or self._ann[0] != generation:
            loaded = load_ann(self.directory)
            if loaded and loaded[0]["generation"] != generation:
                import logging

                logging.getLogger("babelir").warning(
                    "%s: the ANN graphs are from an older commit; searching exactly "
                    "(rebuild them with babelir index --ann)", self.directory)
                loaded = None
            self._ann = (generation, loaded)
        ann = self._ann[1]
        if ann is None or ann[0]["corrected"] != bool(debias) or (doc_langs is not None and not ann[0]["corrected"]):
            return None
        return ann

    def require_dense(self) -> None:
        """Raise a user error when the index holds no dense vectors."""
        if not self.manifest.get("encoder"):
            raise BabelirError(f"{self.directory}: the index has no dense vectors (index it with --dense)")

    def search_dense(self, query_vectors, k: int = 10, query_langs: list[str | None] | None = None,
                     debias: bool | None = None, standardise: bool = True,
                     doc_langs: set[str] | None = None, exact: bool = False) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, score) for each query vector (rows of ``query_vectors``).

        Search uses the HNSW graphs (``build_ann``) when they match the latest commit and the
        requested correction, unless ``exact``; otherwise exact search.

        ``debias`` (default: on when two or more languages have 100+ documents) removes each
        language's mean vector from documents and from queries of that language (``query_langs``)
        and, with ``standardise``, turns each query's scores into z-scores within each document
        language; without the correction the scores are cosines. ``doc_langs``: only documents of
        these languages."""
        vectors = self.dense_vectors()
        if debias is None:
            debias = vectors.corrects_bias
        if debias:
            query_vectors = vectors.debias_queries(query_vectors, query_langs or [None] * len(query_vectors))
        ann = None if exact else self._ann_for(debias, doc_langs)
        if ann is not None:
            from babelir.index.ann import ann_search

            return ann_search(vectors, *ann, query_vectors, k, standardise=standardise, doc_langs=doc_langs)
        return vectors.search(query_vectors, k, debias=debias, standardise=standardise, doc_langs=doc_langs)

    def _require_writable(self) -> None:
        if not self.writable:
            raise BabelirError(f"{self.directory}: index opened read-only")

    def set_fusion_weights(self, modes: Sequence[str], fusion: str, by_lang: dict[str, list[float]],
                           tuned_on: dict) -> None:
        """Record per-language fusion weights (``babelir tune``) in the manifest; hybrid search
        over the same ``modes`` and ``fusion`` uses them when given no weights."""
        self._require_writable()
        self.manifest["fusion_weights"] = {"modes": list(modes), "fusion": fusion, "by_lang": by_lang,
                                           "tuned_on": tuned_on}
        write_manifest(self.directory, self.manifest)

    def _write_manifest(self) -> None:
        self.manifest.update(
            doc_count=self._doc_count, total_terms=self._total_length, languages=self.store.languages(),
            checksums={"lexical/meta.json": sha256_file(self.directory / POSTINGS / "meta.json")})
        write_manifest(self.directory, self.manifest)

    # --- search -------------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, lang: str | None = None,
               doc_langs: set[str] | None = None) -> list[tuple[str, float]]:
        """The top ``k`` (doc id, BM25 score) for a query, best first (ties: doc id, descending);
        ``doc_langs``: only documents of these languages."""
        query_terms = Counter(self.analyzer.analyze(text, lang))
        if not query_terms:
            return []
        impact = self.impact()  # follows the store's latest commit
        allowed = None if doc_langs is None else self._language_mask("bm25", impact.ids, doc_langs)
        return impact.search(query_terms, k, self.params, allowed=allowed)

    def impact(self):
        """The postings cache of the committed documents (loaded, or built and saved when stale)."""
        from babelir.index.impact import ImpactCache

        generation = self.store.generation()
        if self._impact is None or self._impact.generation != generation:
            self._impact = ImpactCache.load(self.directory, generation)
            if self._impact is None:
                self._impact = ImpactCache.build(self.store.term_rows(), generation)
                try:
                    self._impact.save(self.directory)
                except OSError:
                    pass  # a read-only directory: keep the cache in memory only
        return self._impact

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


def _passage(doc: Doc) -> str:
    """The text a document is encoded from: its title (if any) and its text."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


def _sparse_config(encoder) -> dict[str, Any]:
    """The manifest's description of an index's learned sparse vectors."""
    if not getattr(encoder, "sparse_dim", 0):
        raise BabelirError(f"the encoder {encoder.name} has no learned sparse head (--sparse needs e5-small)")
    return {"encoder": encoder.config(), "dim": encoder.sparse_dim, "top_k": 256}
