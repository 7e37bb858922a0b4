"""The dense and learned sparse vectors of an index: adding them, checking they cover every
document, and searching them (exact, or through HNSW graphs).

A mix-in of :class:`babelir.index.core.Index`: it uses the index's ``directory``, ``store``,
``manifest``, ``writing()`` and ``_write_manifest()``.
"""

from __future__ import annotations

from typing import Any

from babelir.errors import BabelirError, IndexFormatError
from babelir.types import passage


class IndexVectors:
    """Dense and sparse vectors of an :class:`~babelir.index.core.Index`."""

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
        e5-small, or the one an interrupted run started with) and records it in the manifest once
        every document has its vector; the store records it with the first chunk, so a rerun
        with another encoder is refused instead of mixing two vector spaces."""
        from babelir.progress import progress

        with self.writing():
            key = "encoder" if kind == "dense" else "sparse"
            new_config = None
            if not self.manifest.get(key):
                started = self.store.get_meta(f"{kind}_started")  # an interrupted first encoding
                if encoder is None and self._encoder is None:
                    from babelir.encode.base import get_encoder

                    encoder = get_encoder(started["name"] if started else "e5-small")
                self._encoder = self._encoder or encoder
                new_config = self._encoder.config() if kind == "dense" else _sparse_config(self._encoder)
                named = new_config if kind == "dense" else new_config["encoder"]
                if started and (started["name"], started["dim"]) != (named["name"], named["dim"]):
                    raise BabelirError(f"{self.directory}: {kind} vectors were started with the encoder "
                                       f"{started['name']}; finish with it (--encoder {started['name']})")
            missing = sorted(set(self.store.id_map()) - self._covered(kind))
            bar = progress(total=len(missing), desc=f"encoding ({kind})", unit="doc", quiet=quiet)
            for start in range(0, len(missing), batch_size):
                rows = self.store.text_rows(missing[start:start + batch_size])
                texts = [passage(title, text) for _, title, text in rows]
                vectors = (self.encoder.encode_passages(texts) if kind == "dense"
                           else self.encoder.encode_sparse(texts))
                with self.store.transaction():
                    self._stage_chunk([r[0] for r in rows], vectors, kind)
                    if new_config is not None:
                        named = new_config if kind == "dense" else new_config["encoder"]
                        self.store.set_meta(f"{kind}_started", {"name": named["name"], "dim": named["dim"]})
                    self.store.set_meta("generation", self.store.generation() + 1)
                bar.update(len(rows))
            bar.close()
            if new_config is not None:  # the manifest claims the vectors once they all exist
                self.manifest[key] = new_config
            self._sync(reload_manifest=False)
            self._write_manifest()
        return len(missing)

    def coverage(self, kind: str = "dense") -> tuple[int, int]:
        """(documents with a ``dense`` or ``sparse`` vector, documents) in the latest commit."""
        generation = self.store.generation()
        cached = self._coverage.get(kind)
        if cached is None or cached[0] != generation:
            live = set(self.store.id_map())
            cached = (generation, (len(self._covered(kind) & live), len(live)))
            self._coverage[kind] = cached
        return cached[1]

    def require_covered(self, kind: str = "dense") -> None:
        """Raise a user error unless every document has a ``kind`` vector: a search never
        silently uses a mode that covers part of the index."""
        key = "encoder" if kind == "dense" else "sparse"
        self._sync()
        if not self.manifest.get(key) and not self.store.chunks(kind):
            raise BabelirError(f"{self.directory}: the index has no {kind} vectors (index it with --{kind})")
        covered, total = self.coverage(kind)
        if covered < total or not self.manifest.get(key):
            raise BabelirError(f"{self.directory}: {kind} vectors cover {covered:,} of {total:,} documents; "
                               f"re-run babelir index --{kind} to finish")

    def search_sparse(self, queries: list[str], k: int = 10, doc_langs: set[str] | None = None,
                      encoded: list | None = None) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, sparse dot product) for each query text (learned sparse retrieval);
        ``doc_langs``: only documents of these languages; ``encoded``: the queries' sparse
        vectors when the caller has them already (``queries`` is then ignored)."""
        from babelir.index.sparse import SparseVectors

        self.require_covered("sparse")
        generation = self.store.generation()
        if self._sparse is None or self._sparse[0] != generation:
            self._sparse = (generation, SparseVectors(self.directory, self.store.chunks("sparse"),
                                                      self.manifest["sparse"]["dim"], self.store.id_map()))
        sparse = self._sparse[1]
        allowed = None if doc_langs is None else self._language_mask("sparse", sparse.docnos, doc_langs)
        vectors = encoded if encoded is not None else self.encoder.encode_sparse(queries)
        return sparse.search(vectors, k, allowed=allowed)


    def dense_vectors(self):
        """The DenseVectors of the latest commit (loaded once per commit generation)."""
        from babelir.index.dense import DenseVectors

        generation = self.store.generation()
        if self._dense is None or self._dense[0] != generation:
            self.require_dense()
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
        """Raise a user error unless the index holds a dense vector for every document."""
        self.require_covered("dense")

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



def _sparse_config(encoder) -> dict[str, Any]:
    """The manifest's description of an index's learned sparse vectors."""
    if not getattr(encoder, "sparse_dim", 0):
        raise BabelirError(f"the encoder {encoder.name} has no learned sparse head (--sparse needs e5-small)")
    return {"encoder": encoder.config(), "dim": encoder.sparse_dim, "top_k": 256}
