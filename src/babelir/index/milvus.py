"""Milvus as a search backend: mirroring an index into a Milvus collection, and searching it.

The babelir index directory stays the source of truth: documents, texts, groups, languages, term
counts and vectors stay in its store (SQLite and the vector chunks), which gives crash safety,
group evidence and snippets. Milvus holds what the first stages of a search need, one row per
document: ``id`` (primary key), ``lang``, ``group``, ``terms`` (babelir's own terms, each as an
opaque ASCII token, see :func:`token`), ``bm25`` (the sparse vector Milvus's BM25 function makes of
``terms``), ``dense`` (HNSW, inner product; the language-corrected vectors when the index corrects
language bias, see :class:`babelir.index.dense.DenseVectors`) and ``sparse`` (the learned sparse
vector, inner product).

Backends: ``milvus:PATH.db`` (milvus-lite, embedded, one process at a time) and
``milvus://HOST:PORT`` (a Milvus server or cluster). pymilvus is imported here only when used.

BM25 in Milvus: ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen))`` with Lucene's idf
(https://milvus.io/docs/full-text-search.md); babelir's scores drop the constant ``(k1 + 1)``
(:mod:`babelir.index.bm25`), so a Milvus score divided by ``k1 + 1`` is babelir's. milvus-lite
ignores the index's ``bm25_k1`` / ``bm25_b`` and always scores with k1 1.5, b 0.75 (measured:
:data:`LITE_BM25`), and reports a BM25 match as a negative distance; a server reports it positive.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babelir.errors import BabelirError
from babelir.index.bm25 import BM25Params

LITE_BM25 = BM25Params(1.5, 0.75)  # what milvus-lite scores BM25 with, whatever the index asks
TERMS_MAX = 65_535  # Milvus's longest VARCHAR, in bytes
TERMS_LIMIT = (TERMS_MAX + 1) // 18  # terms a document may have: each is 17 characters and a space
MIRROR_BATCH = 1000
_CLIENTS: dict[str, Any] = {}
_LOADED: set[tuple[str, str]] = set()


def parse_backend(value: str) -> dict[str, str] | None:
    """``local`` -> None; ``milvus:PATH.db`` -> ``{"kind": "milvus", "uri": absolute path}``
    (milvus-lite); ``milvus://HOST:PORT`` -> ``{"kind": "milvus", "uri": "http://HOST:PORT"}``.
    Raises BabelirError for anything else."""
    value = (value or "").strip()
    if value == "local":
        return None
    if value.startswith("milvus://"):
        address = value[len("milvus://"):].rstrip("/")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise BabelirError(f"--backend {value}: expected milvus://HOST:PORT")
        return {"kind": "milvus", "uri": f"http://{host}:{port}"}
    if value.startswith("milvus:"):
        path = value[len("milvus:"):]
        if not path.endswith(".db") or Path(path).name == ".db":
            raise BabelirError(f"--backend {value}: a milvus-lite file must end in .db (milvus:PATH.db)")
        return {"kind": "milvus", "uri": str(Path(path).expanduser().resolve())}
    raise BabelirError(f"--backend {value!r}: expected local, milvus:PATH.db (milvus-lite) or milvus://HOST:PORT")


def is_lite(uri: str) -> bool:
    """Whether ``uri`` is a milvus-lite file (not a server)."""
    return not uri.startswith(("http://", "https://", "tcp://"))


def engine_params(uri: str, params: BM25Params) -> BM25Params:
    """The k1 / b Milvus scores BM25 with for an index whose own are ``params``."""
    return LITE_BM25 if is_lite(uri) else params


def token(term: str) -> str:
    """A babelir term as one opaque ASCII token Milvus's standard tokenizer keeps whole:
    ``t`` + 16 hex digits of its blake2b hash (8 bytes)."""
    return "t" + hashlib.blake2b(term.encode("utf-8"), digest_size=8).hexdigest()


def encode_terms(counts: dict[str, int]) -> str:
    """Term counts as the text of the ``terms`` field (each token repeated ``count`` times)."""
    return " ".join(" ".join([token(t)] * int(c)) for t, c in counts.items())


class TooLongForMilvus(BabelirError):
    """Documents with more terms than Milvus's ``terms`` field holds (:data:`TERMS_LIMIT`); ``ids``
    names them. Raised before anything of their batch is committed."""

    def __init__(self, directory, ids: list[str], counts: list[int]):
        self.ids = list(ids)
        super().__init__(f"{directory}: document {ids[0]} has {counts[0]} terms, more than a Milvus text field "
                         f"holds ({TERMS_LIMIT}); split it into passages (or --skip-bad to skip it)"
                         + (f" ({len(ids) - 1} more in its batch)" if len(ids) > 1 else ""))


def check_lengths(directory, ids: list[str], lengths: list[int]) -> None:
    """Raise :class:`TooLongForMilvus` when a document (``ids``, each with ``lengths`` terms,
    repeats counted) has more terms than Milvus's ``terms`` field holds."""
    over = [(d, n) for d, n in zip(ids, lengths) if n > TERMS_LIMIT]
    if over:
        raise TooLongForMilvus(directory, [d for d, _ in over], [n for _, n in over])


def _fix(uri: str) -> str:
    if is_lite(uri):
        return (f"the milvus-lite store {uri} is damaged or not one: re-run babelir index CORPUS -o INDEX to mirror "
                f"the index again (remove {uri} first if this persists), or search with --backend local")
    return f"check the Milvus server at {uri}, or search with --backend local"


@contextmanager
def milvus_errors(uri: str):
    """Turn what Milvus (pymilvus, milvus-lite, gRPC) raises inside the block into a one-line
    BabelirError naming ``uri`` and what to do."""
    try:
        yield
    except BabelirError:
        raise
    except Exception as exc:  # noqa: BLE001 - only Milvus's own, re-raised otherwise
        module = type(exc).__module__ or ""
        if not module.startswith(("pymilvus", "milvus_lite", "grpc", "pyarrow")):
            raise
        reason = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
        raise BabelirError(f"Milvus at {uri}: {type(exc).__name__}: {reason} ({_fix(uri)})") from None


class _Captured(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _lite_path(uri: str, create: bool) -> None:
    """Refuse a milvus-lite path that cannot be one: a file, a missing store when only searching,
    a directory that cannot be made."""
    path = Path(uri)
    if path.exists() and not path.is_dir():
        raise BabelirError(f"--backend milvus:{uri}: that is a file; a milvus-lite store is a directory "
                           f"(name a new path ending in .db)")
    if not path.exists():
        if not create:
            raise BabelirError(f"Milvus at {uri}: no milvus-lite store there (re-run babelir index CORPUS -o INDEX "
                               f"to mirror the index into it, or search with --backend local)")
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise BabelirError(f"--backend milvus:{uri}: cannot create the milvus-lite store there "
                               f"({exc.strerror or exc})") from None


def client(uri: str, create: bool = False):
    """One MilvusClient per uri in this process (milvus-lite allows one opener of a store).
    ``create``: a missing milvus-lite store may be made (indexing), else it is refused (search).
    milvus-lite's own log lines are kept off stderr; a store another process holds is said so."""
    if uri not in _CLIENTS:
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise BabelirError("the Milvus backend needs pymilvus (pip install 'babelir[milvus]')") from None
        if is_lite(uri):
            _lite_path(uri, create)
        captured = _Captured()
        loggers = [logging.getLogger(name) for name in ("milvus_lite", "pymilvus")]
        saved = [(log.propagate, log.level) for log in loggers]
        for log in loggers:
            log.addHandler(captured)
            log.propagate = False
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL + 1)
        try:
            _CLIENTS[uri] = MilvusClient(uri)
        except Exception as exc:  # noqa: BLE001 - a connection failure, told in one line
            causes = [r.exc_info[1] for r in captured.records if r.exc_info and r.exc_info[1] is not None]
            if any(type(c).__name__ == "DataDirLockedError" for c in causes):
                raise BabelirError(f"another process has {uri} open (milvus-lite allows one; stop it, or search "
                                   f"with --backend local)") from None
            reason = causes[0] if causes else exc
            text = " ".join(str(reason).split())[:200]
            raise BabelirError(f"Milvus at {uri}: cannot connect ({text}; "
                               + ("is the path a writable directory?)" if is_lite(uri) else "is the server up?)")) from None
        finally:
            for log, (propagate, level) in zip(loggers, saved):
                log.removeHandler(captured)
                log.propagate, log.level = propagate, level
        _silence()
    return _CLIENTS[uri]


def _silence() -> None:
    """Keep what milvus-lite, its gRPC server and pymilvus log off stderr for the rest of the process
    (their failures reach babelir as exceptions, told in one line; an interrupted build's last
    RPCs would otherwise print server-side tracebacks at exit)."""
    for name in ("milvus_lite", "grpc", "pymilvus"):
        log = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())
        log.propagate = False
        log.setLevel(logging.CRITICAL + 1)  # pymilvus's own handler prints every RPC error with its traceback


def release(uri: str) -> None:
    """Close this process's client of ``uri`` (a milvus-lite store: stop its embedded server, so
    that another process may open it)."""
    found = _CLIENTS.pop(uri, None)
    for key in [key for key in _LOADED if key[0] == uri]:
        _LOADED.discard(key)
    if found is None:
        return
    found.close()
    if is_lite(uri):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def check_backend(backend: dict[str, str]) -> None:
    """Connect to ``backend`` (creating a milvus-lite store), before any indexing: a bad path, a
    store another process holds or an unreachable server is a one-line BabelirError."""
    with milvus_errors(backend["uri"]):
        client(backend["uri"], create=True).list_collections()


def row_count(milvus, name: str) -> int:
    """Rows in the collection ``name`` (deleted ones not counted)."""
    return int(milvus.query(name, filter='id != ""', output_fields=["count(*)"])[0]["count(*)"])


def open_collection(record: dict[str, Any], index=None):
    """``(client, collection name)`` of a backend record, the collection loaded for search (once
    per process). Raises BabelirError when the collection is missing, unreadable, or (``index``
    given) holds fewer rows than the index has documents to mirror (a damaged or stale store)."""
    uri, name = record["uri"], record["collection"]
    milvus = client(uri)
    if (uri, name) not in _LOADED:
        with milvus_errors(uri):
            if not milvus.has_collection(name):
                raise BabelirError(f"Milvus at {uri} has no collection {name} ({_fix(uri)})")
            milvus.load_collection(name)
            held = row_count(milvus, name)
        if index is not None:
            expected = index.doc_count - len(record.get("unmirrored") or [])
            if held < expected:
                raise BabelirError(f"Milvus at {uri}: collection {name} holds {held} documents, the index "
                                   f"{index.directory} {expected} ({_fix(uri)})")
        _LOADED.add((uri, name))
    return milvus, name


def held_ids(index, ids) -> set[str]:
    """Those of ``ids`` the index's store holds (a Milvus hit the store lacks is a stale row)."""
    ids = list(set(ids))
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        rows = index.store.db.execute(f"SELECT id FROM docs WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        found.update(row[0] for row in rows)
    return found


def sync_write(index, deleted: list[str] | None = None) -> None:
    """After a commit through :meth:`Index.add` / :meth:`Index.delete` of a mirrored index: the
    ``deleted`` ids are deleted from its collection at once, or (an add) the collection is brought
    in line by :func:`mirror`. Does nothing for an index whose ``mirror_writes`` is False (a build
    mirrors once at its end). Raises BabelirError when Milvus fails (the local commit stands)."""
    record = index.manifest.get("backend")
    if not record or not getattr(index, "mirror_writes", True):
        return
    try:
        if deleted is None:
            index.manifest["backend"] = mirror(index, record)
        else:
            uri, name = record["uri"], record.get("collection") or collection_name(index.directory)
            milvus = client(uri)
            with milvus_errors(uri):
                if milvus.has_collection(name):
                    for start in range(0, len(deleted), MIRROR_BATCH):
                        milvus.delete(name, filter=f"id in {_quoted(deleted[start:start + MIRROR_BATCH])}")
                    milvus.flush(name)
            record["unmirrored"] = sorted(set(record.get("unmirrored") or []) - set(deleted))
    except BabelirError as exc:
        raise BabelirError(f"committed to {index.directory}, but Milvus was not updated: {exc} (searches through "
                           f"Milvus skip documents the index no longer holds)") from None
    index._write_manifest()


def collection_name(directory: Path) -> str:
    """The collection an index directory mirrors into (stable for the directory's absolute path)."""
    digest = hashlib.blake2b(str(Path(directory).resolve()).encode(), digest_size=6).hexdigest()
    return f"babelir_{digest}"


def _means_stamp(vectors) -> str:
    return hashlib.blake2b(vectors.means.tobytes(), digest_size=8).hexdigest()


def _create(milvus, name: str, params: BM25Params, dim: int | None, sparse: bool) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = milvus.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, max_length=1024, is_primary=True)
    schema.add_field("lang", DataType.VARCHAR, max_length=32)
    schema.add_field("group", DataType.VARCHAR, max_length=1024)
    schema.add_field("terms", DataType.VARCHAR, max_length=TERMS_MAX, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25_of_terms", function_type=FunctionType.BM25,
                                 input_field_names=["terms"], output_field_names=["bm25"]))
    indexes = milvus.prepare_index_params()
    indexes.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                      params={"bm25_k1": params.k1, "bm25_b": params.b})
    if dim:
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        indexes.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    if sparse:
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        indexes.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    milvus.create_collection(name, schema=schema, index_params=indexes)


def _milvus_ids(milvus, name: str) -> set[str]:
    found: set[str] = set()
    quiet = logging.getLogger("pymilvus")
    level = quiet.level
    quiet.setLevel(max(level, logging.ERROR))  # milvus-lite has no MVCC timestamp; pymilvus warns on every iterator
    try:
        iterator = milvus.query_iterator(name, batch_size=5000, filter='id != ""', output_fields=["id"])
        while True:
            batch = iterator.next()
            if not batch:
                iterator.close()
                return found
            found.update(row["id"] for row in batch)
    finally:
        quiet.setLevel(level)


def mirror(index, backend: dict[str, str], quiet: bool = True) -> dict[str, Any]:
    """Bring ``backend``'s collection in line with the index's latest commit; returns the record
    stored in the manifest as ``backend``. Documents Milvus lacks are inserted (in batches; an
    interrupted mirror is finished by the next), those the index deleted are deleted, and when the
    dense correction's language means changed since the last mirror the collection is rebuilt
    (its vectors are corrected with the means). Must be called under the index's writer lock.
    Documents with more terms than Milvus's text field holds (:data:`TERMS_LIMIT`; an index built
    before that was checked at commit) are not mirrored: the record lists them as ``unmirrored``.
    Raises BabelirError when the index's BM25 parameters are not the engine's (milvus-lite:
    k1 1.5, b 0.75), or for anything Milvus raises (:func:`milvus_errors`)."""
    with milvus_errors(backend["uri"]):
        return _mirror(index, backend, quiet)


def _mirror(index, backend: dict[str, str], quiet: bool) -> dict[str, Any]:
    import numpy as np

    from babelir.progress import progress

    uri = backend["uri"]
    params = engine_params(uri, index.params)
    if (params.k1, params.b) != (index.params.k1, index.params.b):
        raise BabelirError(f"{index.directory}: milvus-lite scores BM25 with k1 {params.k1}, b {params.b} only; "
                           f"this index has k1 {index.params.k1}, b {index.params.b} (build a new index with "
                           f"--k1 {params.k1} --b {params.b}, or use a Milvus server)")
    milvus = client(uri, create=True)
    name = backend.get("collection") or collection_name(index.directory)
    old = index.manifest.get("backend") or {}
    has_dense = bool(index.manifest.get("encoder"))
    has_sparse = bool(index.manifest.get("sparse"))
    vectors = index.dense_vectors() if has_dense else None
    corrected = bool(vectors is not None and vectors.corrects_bias)
    stamp = _means_stamp(vectors) if corrected else None
    record = {"kind": "milvus", "uri": uri, "collection": name, "bm25": {"k1": params.k1, "b": params.b},
              "dense": None if not has_dense else ("corrected" if corrected else "raw"), "sparse": has_sparse,
              "means": stamp}
    layout = {key: record[key] for key in ("collection", "dense", "sparse", "means")}
    if milvus.has_collection(name) and {key: old.get(key) for key in layout} != layout:
        milvus.drop_collection(name)  # another layout, or stale corrected vectors: rebuilt whole
    if not milvus.has_collection(name):
        _create(milvus, name, params, vectors.vectors[0].shape[1] if has_dense and vectors.vectors else
                (index.manifest["encoder"]["dim"] if has_dense else None), has_sparse)
    milvus.load_collection(name)
    _LOADED.add((uri, name))
    ids = index.store.id_map()  # docno -> id
    held = _milvus_ids(milvus, name)
    gone = sorted(held - set(ids.values()))
    for start in range(0, len(gone), MIRROR_BATCH):
        chunk = gone[start:start + MIRROR_BATCH]
        milvus.delete(name, filter=f"id in {_quoted(chunk)}")
    missing = sorted(n for n, doc_id in ids.items() if doc_id not in held)
    dense_rows = sparse_rows = None
    if missing and vectors is not None:
        dense_rows = {int(n): (c, r) for c, docnos in enumerate(vectors.docnos) for r, n in enumerate(docnos)}
    if missing and has_sparse:
        from babelir.index.sparse import SparseVectors

        found = SparseVectors(index.directory, index.store.chunks("sparse"), index.manifest["sparse"]["dim"], ids)
        matrix = found.matrix.tocsr()
        sparse_rows = {int(n): r for r, n in enumerate(found.docnos)}
    langs = index.store.lang_map()
    unmirrored: list[str] = []
    bar = progress(total=len(missing), desc="mirroring to Milvus", unit="doc", quiet=quiet)
    for start in range(0, len(missing), MIRROR_BATCH):
        docnos = missing[start:start + MIRROR_BATCH]
        doc_ids = [ids[n] for n in docnos]
        terms = index.doc_terms(doc_ids)
        groups = index.store.groups(doc_ids)
        rows = []
        for n, doc_id in zip(docnos, doc_ids):
            text = encode_terms(terms.get(doc_id, {}))
            if len(text) > TERMS_MAX:  # committed before lengths were checked: searched locally only
                unmirrored.append(doc_id)
                continue
            row = {"id": doc_id, "lang": langs.get(n) or "und", "group": groups.get(doc_id, ""), "terms": text}
            if dense_rows is not None:
                c, r = dense_rows[n]
                vec = np.asarray(vectors.vectors[c][r:r + 1], dtype=np.float32)
                if corrected:
                    vec = vectors.correct(vec, vectors.lang_rows[c][r:r + 1])
                row["dense"] = vec[0].tolist()
            if sparse_rows is not None:
                part = matrix[sparse_rows[n]]
                row["sparse"] = {int(i): float(v) for i, v in zip(part.indices, part.data)}
            rows.append(row)
        if rows:
            milvus.insert(name, rows)
        bar.update(len(docnos))
    bar.close()
    if missing or gone:
        milvus.flush(name)
    record["generation"] = index.store.generation()
    record["unmirrored"] = unmirrored
    return record


def _quoted(ids: list[str]) -> str:
    """A Milvus list literal of string ids."""
    import json

    return json.dumps(list(ids), ensure_ascii=False)


def lang_filter(langs) -> str | None:
    """A Milvus filter expression keeping documents of ``langs`` (None: no filter)."""
    return None if langs is None else f"lang in {_quoted(sorted(langs))}"


def backend_of(index) -> dict[str, Any] | None:
    """The Milvus backend record a search of ``index`` goes through, or None (a local index, or
    one opened with ``index.search_backend = "local"``). Raises BabelirError when the build that
    records it has not mirrored the index yet (it was interrupted)."""
    record = index.manifest.get("backend")
    if not record or getattr(index, "search_backend", None) == "local":
        return None
    if record.get("generation") is None or "bm25" not in record:
        raise BabelirError(f"{index.directory}: the index is not mirrored into Milvus {record['uri']} yet (its build "
                           f"was interrupted: re-run babelir index CORPUS -o INDEX to finish it, or search with "
                           f"--backend local)")
    return record
