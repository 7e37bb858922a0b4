"""Build or extend a BM25 index from a corpus, in committed batches, resumable.

``build_index(corpus, out)`` streams the corpus, resolves each document's language, and adds the
documents in batches; each batch is one commit. Documents already in the index (by id) are
skipped, so re-running after an interruption finishes the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError, InputError
from babelir.index.batches import committing_before_errors, corpus_batches
from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.index.manifest import MANIFEST
from babelir.io.corpus import read_corpus
from babelir.io.records import BadRecords
from babelir.progress import progress
from babelir.text.analyzer import Analyzer
from babelir.text.langid import ambiguity_note
from babelir.types import Doc, normalize_lang


@dataclass
class BuildSummary:
    """What :func:`build_index` did."""

    index: Path
    added: int = 0
    already_indexed: int = 0
    changed: list[str] = field(default_factory=list)  # ids already indexed whose corpus record has another text or title
    held_before: int = 0  # documents the index held when the build started
    skipped_bad: int = 0
    bad_examples: list[str] = field(default_factory=list)
    detected: int = 0
    ambiguous: dict[str, int] = field(default_factory=dict)  # detected code -> documents (look-alike languages)
    doc_count: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    ann: dict | None = None
    encoded: dict[str, int] = field(default_factory=dict)  # kind -> documents given vectors already indexed
    created: bool = False
    backend: dict | None = None  # the Milvus collection the index is mirrored into
    ray: dict | None = None  # where a --ray build ran (babelir.index.ray_build)
    merged: tuple[int, int] = (0, 0)  # postings segments of this build (and of an interrupted one), before and after merging

    def lines(self) -> list[str]:
        """A human summary, one line per fact."""
        verb = "created" if self.created else "extended" if self.held_before else "was empty"
        out = [f"indexed {self.added} documents into {self.index} ({verb}) in {self.seconds:.1f}s "
               f"({self.doc_count} in the index)"]
        for kind, count in self.encoded.items():
            if count:
                out.append(f"added {kind} vectors to {count} documents already in the index")
            if self.added:
                out.append(f"{kind} vectors: encoded for the {self.added} document{'s' if self.added != 1 else ''} added")
            elif not count:
                out.append(f"{kind} vectors: every document already had one")
        if self.merged[0] > self.merged[1]:
            out.append(f"postings: this build's {self.merged[0]} segments merged into {self.merged[1]}")
        elif self.merged[0] > 1:
            out.append(f"postings: this build's {self.merged[0]} segments, not merged")
        if self.already_indexed:
            out.append(f"{_documents(self.already_indexed)} already in the index (kept)")
        if self.changed:
            shown = ", ".join(self.changed[:3]) + (", …" if len(self.changed) > 3 else "")
            out.append(f"{len(self.changed)} of them {'has' if len(self.changed) == 1 else 'have'} another text or "
                       f"title in the corpus than in the index ({shown}): the indexed version is kept; to replace one, delete it first "
                       f"(DELETE /v1/docs/INDEX/ID of `babelir serve --writable`, or Index.delete) and index it again")
        if self.ray:
            out.append(f"analysed and encoded on Ray ({self.ray['address']}): {self.ray['workers']} workers, "
                       f"{self.ray['committed']} batches committed in order"
                       + (f", {self.ray['resubmitted']} resubmitted after a worker died" if self.ray["resubmitted"] else ""))
        if self.detected:
            out.append(f"language detected for {self.detected} documents without one")
        for code, count in self.ambiguous.items():
            out.append(f"{count} documents detected as {code}: {ambiguity_note(code)} (--lang, or a 'lang' field)")
        if self.skipped_bad:
            out.append(f"skipped {self.skipped_bad} bad record{'' if self.skipped_bad == 1 else 's'}, e.g.:")
            out.extend(f"  {example}" for example in self.bad_examples)
        out.append("languages: " + ", ".join(f"{lang} {n}" for lang, n in self.languages.items()))
        if self.backend:
            b = self.backend
            out.append(f"mirrored into Milvus {b['uri']} collection {b['collection']} (bm25 k1 {b['bm25']['k1']}, "
                       f"b {b['bm25']['b']}; dense {b['dense'] or 'none'}; sparse {'yes' if b['sparse'] else 'no'})")
            if b.get("unmirrored"):
                out.append(f"{len(b['unmirrored'])} documents have more terms than Milvus holds and are not mirrored "
                           f"(searched with --backend local only), e.g. {', '.join(b['unmirrored'][:3])}: delete "
                           f"them (DELETE /v1/docs/NAME/ID or Index.delete) and index them split into passages")
        if self.ann:
            kind = "one per language, corrected vectors" if self.ann["corrected"] else "one graph"
            out.append(f"ANN: HNSW (M {self.ann['M']}, efSearch {self.ann['ef_search']}), "
                       f"{len(self.ann['groups'])} graph(s) ({kind})")
        return out


def _documents(count: int) -> str:
    return "1 document was" if count == 1 else f"{count} documents were"


def build_index(corpus: str | Path, out: str | Path, lang: str | None = "auto", skip_bad: bool = False,
                batch_size: int = 10_000, params: BM25Params | None = None, quiet: bool = False,
                analyzer: Analyzer | str | None = None, subword_vocab: int = 32_000,
                encoder=None, dense: bool = True, sparse: bool = False, ann: bool = False,
                wait: float = 0.0, backend: dict | None = None, ray=None, workers: int | None = None,
                merge: bool = True) -> BuildSummary:
    """Index ``corpus`` (JSONL file or BEIR directory) into ``out``, creating the index if needed.

    ``analyzer`` and ``params`` apply to a new index; for an existing one they must match its
    manifest (None: the index's own, or the defaults for a new index), else a BabelirError.
    The build holds the index's writer lock throughout: another writer makes it wait up to
    ``wait`` seconds, then stop with :class:`~babelir.index.writing.IndexBusy`. An interrupted
    build (Ctrl-C, SIGKILL) keeps every committed batch; re-running it finishes the job, including
    vectors an interrupted ``--dense`` or ``--sparse`` run left missing.
    ``analyzer="subword"`` (or ``"language-aware+subword"``) first trains a SentencePiece model
    (``subword_vocab`` pieces) on the corpus. With an ``encoder`` every document also gets a dense
    vector (``dense``) and/or a learned sparse vector (``sparse``), in the same commits; an existing
    index without them is given them. ``ann`` then (re)builds the HNSW graphs over the dense
    vectors, unless they already match the latest commit. ``ray``
    (:class:`babelir.index.ray_build.RayOptions`): analyse and encode the new documents on a Ray
    cluster, committed in the same order and batches (vectors for documents already indexed are
    still encoded here). ``workers``: processes that analyse batches of at least
    :data:`babelir.index.parallel.MIN_BATCH` documents while the previous batch commits (None: one
    per CPU, at most 8; 1: analyse in this process); the index is the same. ``merge``: at the end,
    join the postings segments this build wrote into as few as
    :data:`babelir.index.merging.MAX_MERGE_DOCS` allows (:func:`babelir.index.merging.force_merge`).
    """
    started = time.perf_counter()
    out = Path(out)
    lang = None if lang in (None, "auto") else normalize_lang(lang)
    summary = BuildSummary(out)
    made = None
    if backend is not None and backend.get("kind") == "local":  # --backend local: refused for a mirrored index
        _refuse_local(out)
        backend = None
    from babelir.text.e5_pieces import expect_many_words

    expect_many_words()  # a build cuts many new words, whatever its batch size: SentencePiece, not the lean cutter
    if (out / MANIFEST).exists():
        index = Index.open(out, writable=True)
        try:
            _check_settings(index, analyzer, params)
            _check_backend(index, backend)
            if backend is not None or index.manifest.get("backend"):
                from babelir.index.milvus import check_backend

                check_backend(backend or index.manifest["backend"])  # before any indexing
        except BaseException:
            index.close()
            raise
    else:
        if backend is not None:
            from babelir.index.milvus import engine_params

            params = params or engine_params(backend["uri"], BM25Params())
            _check_engine(out, backend, params)
            from babelir.index.milvus import check_backend

            check_backend(backend)  # before any indexing
        if analyzer in ("subword", "language-aware+subword"):
            if str(corpus) == "-" or not (Path(corpus).is_file() or Path(corpus).is_dir()):
                raise BabelirError(f"{corpus}: not a regular file (--analyzer {analyzer} reads the corpus "
                                   f"twice; write the corpus to a file)")
            from babelir.text.analyzer import get_analyzer
            from babelir.text.subword import SubwordAnalyzer, WordsAndPiecesAnalyzer, train_subword_model

            texts = (d.text for d in read_corpus(corpus, BadRecords(skip=True)))
            pieces = SubwordAnalyzer(train_subword_model(texts, vocab_size=subword_vocab))
            analyzer = pieces if analyzer == "subword" else WordsAndPiecesAnalyzer(get_analyzer(pieces=False), pieces)
        made = _first_missing(out)
        index = Index.create(out, analyzer=analyzer, params=params, encoder=encoder, dense=dense, sparse=sparse)
        summary.created = True
    bad = BadRecords(skip=skip_bad)
    nothing_committed = False
    try:
        with index.writing(wait):
            index.mirror_writes = False  # mirrored once, at the end
            if backend is not None and not index.manifest.get("backend"):  # recorded now: a resumed build mirrors
                from babelir.index.milvus import collection_name

                index.manifest["backend"] = {**backend, "collection": collection_name(index.directory),
                                             "generation": None}
                index._write_manifest()
            summary.held_before = index.doc_count
            if not summary.created:
                _fill_vectors(index, encoder, dense, sparse, batch_size, quiet, summary)
            from babelir.index.merging import finish_build, start_build

            mark = start_build(index)
            if ray is None:
                _add_corpus(index, corpus, bad, lang, batch_size, quiet, summary, workers)
            else:
                from babelir.index.ray_build import add_corpus

                add_corpus(index, corpus, bad, lang, batch_size, quiet, summary, ray)
            summary.merged = finish_build(index, mark, merge)
            for kind, key in (("dense", "encoder"), ("sparse", "sparse")):
                if index.manifest.get(key):  # every document added got the index's vectors
                    summary.encoded.setdefault(kind, 0)
            if ann:
                summary.ann = index.ensure_ann(quiet=quiet)
            summary.doc_count = index.doc_count
            summary.languages = index.manifest["languages"]
            if backend is not None or index.manifest.get("backend"):
                from babelir.index.milvus import mirror

                index.manifest["backend"] = mirror(index, backend or index.manifest["backend"], quiet=quiet)
                index._write_manifest()
                summary.backend = index.manifest["backend"]
    except InputError as exc:  # bad input: a new index that holds no document is not left behind
        nothing_committed = summary.created and _committed(index) == 0
        if summary.added:  # say what stays, and that a re-run resumes
            raise InputError(exc.path, exc.line, exc.field, f"{exc.reason} ({summary.added} documents before it "
                             f"are committed and kept; fix it and re-run to resume)") from None
        raise
    except BabelirError:
        nothing_committed = summary.created and _committed(index) == 0
        raise
    finally:
        index.close()
        if nothing_committed:
            _remove_new_index(out, made)
    summary.skipped_bad, summary.bad_examples = bad.count, bad.examples
    summary.seconds = time.perf_counter() - started
    return summary


def _first_missing(path: Path) -> Path | None:
    """The topmost of ``path`` and its parents that does not exist yet (what creating it makes)."""
    missing = None
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing = candidate
    return missing


def _committed(index: Index) -> int:
    try:
        return index.doc_count
    except Exception:  # noqa: BLE001 - unknown: keep what is there
        return -1


def _remove_new_index(out: Path, made: Path | None) -> None:
    """Remove an index this run created and committed nothing to: the directories it made, or
    (an empty directory given) what it put in it."""
    import shutil

    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return
    for path in out.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _add_corpus(index: Index, corpus, bad: BadRecords, lang: str | None, batch_size: int, quiet: bool,
                summary: BuildSummary, workers: int | None = None) -> None:
    """Add the corpus's documents that the index does not hold yet, in committed batches. With
    analysis workers, a batch is handed to them as soon as it is read, and the batch read before
    it commits meanwhile (a bad record ends the reading: the batches before it still commit)."""
    from babelir.index.parallel import MIN_BATCH, AnalysisPool, available, default_workers

    workers = default_workers() if workers is None else min(workers, default_workers(cap=None))  # CPU-bound: no more than CPUs
    pool = AnalysisPool(index, workers) if workers > 1 and batch_size >= MIN_BATCH and available() else None
    bar = progress(desc="indexing", unit="doc", quiet=quiet)
    pending = None

    def commit(batch: list[Doc], sources: list[str], job) -> None:
        summary.added += _commit(index, batch, sources, bad, corpus, pool.result(job) if pool else None)
        bar.update(len(batch))

    def commit_read() -> None:
        if pending is not None:
            commit(*pending)

    try:
        batches = corpus_batches(index, corpus, bad, lang, batch_size, summary)
        for batch, sources in committing_before_errors(batches, commit_read):
            job = pool.submit(batch) if pool else None
            if pending is not None:
                commit(*pending)
            pending = (batch, sources, job)
        if pending is not None:
            commit(*pending)
    finally:
        if pool is not None:
            pool.close()
    bar.close()


def _commit(index: Index, batch: list[Doc], sources: list[str], bad: BadRecords, corpus, terms=None) -> int:
    """``index.add`` the batch (``terms``: its postings, analysed by workers, or None);
    documents a Milvus mirror cannot hold (too many terms) are bad records (an InputError, or
    counted and left out with --skip-bad). Returns documents added."""
    from babelir.index.milvus import TooLongForMilvus

    try:
        index.add(batch, sources, terms=terms)
        return len(batch)
    except TooLongForMilvus as exc:
        refused = set(exc.ids)
        for doc_id in exc.ids:
            bad(InputError(str(corpus), None, "text", str(exc).split(": ", 1)[1] if doc_id == exc.ids[0] else
                           f"document {doc_id} has more terms than a Milvus text field holds"))
    kept = [(doc, source) for doc, source in zip(batch, sources) if doc.id not in refused]
    if kept:  # analysed again here (rare: only for a Milvus mirror)
        index.add([doc for doc, _ in kept], [source for _, source in kept])
    return len(kept)


def _refuse_local(out: Path) -> None:
    from babelir.index.manifest import read_manifest

    recorded = read_manifest(out).get("backend") if (out / MANIFEST).exists() else None
    if recorded:
        raise BabelirError(f"{out}: the index is mirrored into Milvus {recorded['uri']}; --backend local does not "
                           f"stop that (leave --backend out; babelir search --backend local searches the index "
                           f"directory itself; or index into a new directory for a local-only index)")


def _fill_vectors(index: Index, encoder, dense: bool, sparse: bool, batch_size: int, quiet: bool,
                  summary: BuildSummary) -> None:
    """Give the documents already in the index the vectors asked for (``encoder`` with ``dense``
    / ``sparse``) or that an interrupted run left missing (the index's own encoder)."""
    for kind, wanted in (("dense", dense), ("sparse", sparse)):
        key = "encoder" if kind == "dense" else "sparse"
        asked = encoder is not None and wanted
        started = index.manifest.get(key) or index.store.get_meta(f"{kind}_started")
        if asked or (started and index.coverage(kind)[0] < index.coverage(kind)[1]):
            summary.encoded[kind] = index.encode_missing(encoder if asked else None, batch_size, quiet=quiet, kind=kind)


def _check_backend(index: Index, backend: dict | None) -> None:
    """Refuse a backend other than the one the index is mirrored into, or BM25 parameters the
    engine does not score with."""
    recorded = index.manifest.get("backend")
    if backend is not None and recorded and recorded["uri"] != backend["uri"]:
        raise BabelirError(f"{index.directory}: the index is mirrored into Milvus {recorded['uri']}, not "
                           f"{backend['uri']} (index into a new directory for another backend)")
    if backend is not None:
        _check_engine(index.directory, backend, index.params, existing=True)


def _check_engine(directory, backend: dict, params: BM25Params, existing: bool = False) -> None:
    from babelir.index.milvus import engine_params

    engine = engine_params(backend["uri"], params)
    if (engine.k1, engine.b) == (params.k1, params.b):
        return
    if existing:
        raise BabelirError(f"{directory}: the index was built with BM25 k1 {params.k1}, b {params.b}; milvus-lite "
                           f"scores with k1 {engine.k1}, b {engine.b} only, so it cannot be mirrored into "
                           f"{backend['uri']} (build a new index with --backend milvus:PATH.db, which takes k1 "
                           f"{engine.k1}, b {engine.b}; or use a Milvus server)")
    raise BabelirError(f"{directory}: milvus-lite scores BM25 with k1 {engine.k1}, b {engine.b} only, not "
                       f"k1 {params.k1}, b {params.b} (leave --k1 / --b out, or use a Milvus server)")


def _check_settings(index: Index, analyzer, params: BM25Params | None) -> None:
    """Refuse analysis or BM25 settings that differ from those an existing index was built with
    (they apply to a new index; a search can override k1 and b)."""
    from babelir.errors import BabelirError

    if params is not None and (params.k1, params.b) != (index.params.k1, index.params.b):
        raise BabelirError(f"{index.directory}: the index was built with BM25 k1 {index.params.k1}, "
                           f"b {index.params.b}; --k1 / --b apply to a new index (babelir search --k1 / --b "
                           f"override them at search time)")
    if analyzer is None:
        return
    stored = index.manifest["analyzer"]
    given = {"name": analyzer} if isinstance(analyzer, str) else analyzer.config()
    keys = ("name", "stopwords", "lemmatize", "pieces", "segmenters")
    differ = [k for k in keys if k in given and given.get(k) != stored.get(k)]
    if differ:
        shown = ", ".join(f"{k} {stored.get(k)!r} (asked: {given.get(k)!r})" for k in differ)
        raise BabelirError(f"{index.directory}: the index was built with analyzer {shown}; analysis options "
                           f"apply to a new index (index into a new directory to change them)")
