"""One named index behind the HTTP API: searches in every mode, documents, additions and deletions.

Thread safety: query encoding runs under the index's encoder lock. Everything else (text
analysis, search over already-encoded queries, documents, writes) runs under one lock that every
index of the process shares, :data:`INDEX_LOCK`: the segmenters (sudachi, kiwi …) are process-wide
and refuse concurrent use, whichever index calls them. It is taken for a few milliseconds at a time
(highlighting: once per window of text with words not seen before, see :meth:`IndexService.word_terms`),
so a long encode (of a query, or of documents being added) holds back no BM25 request and a request over long documents holds back no other.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from babelir.errors import BabelirError
from babelir.index.core import Index
from babelir.run import Run
from babelir.serve.abstention import Abstention
from babelir.serve.highlight import Highlighter, word_analysis

MAX_DEPTH = 1000  # results a search ranks (and ``total`` counts) at most
FUSION_DEPTH = 100  # each mode's run in a hybrid search (as ``babelir search --mode hybrid`` with its default k)
INDEX_LOCK = threading.Lock()  # shared by every IndexService of the process (see the module's doc)
WORD_CACHE = 100_000  # words whose analysis (for highlighting) each index keeps (the first seen are dropped first)


@dataclass(frozen=True)
class Evidence:
    """What a search ranked before its final list: each mode's ranking before fusion
    (``first_stages``), the ranking before group evidence, and the group weight (0: none)."""

    first_stages: dict[str, list[tuple[str, float]]]
    before_groups: list[tuple[str, float]]
    group_weight: float


class IndexService:
    """Searches one index; ``writable`` allows :meth:`add` and :meth:`delete`."""

    def __init__(self, name: str, directory: str | Path, writable: bool = False):
        self.name = name
        self.index = Index.open(directory, writable=writable)
        self.writable = writable
        self._index_lock = INDEX_LOCK
        self._encoder_lock = threading.Lock()
        self._word_analysis = word_analysis(self.index.analyzer)
        self._word_terms: dict[tuple[str, str | None], tuple[str, ...]] = {}  # read without the lock
        self.abstention = Abstention(name, directory, self.index, self._index_lock)
        self.calibrated = self.abstention.preload(self.modes())  # mode -> pipeline spec, or None

    # --- what the index offers ----------------------------------------------------------------
    def modes(self) -> list[str]:
        """The search modes the index supports, best first."""
        manifest = self.index.manifest
        modes = []
        if manifest.get("encoder"):
            modes.append("hybrid")
            modes.append("dense")
        if manifest.get("sparse"):
            modes.append("sparse")
        return modes + ["bm25"]

    def describe(self) -> dict:
        """Name, languages, counts, encoder and modes (the index's public manifest)."""
        m = self.index.manifest
        encoder = m.get("encoder") or None
        return {"name": self.name, "documents": self.index.doc_count, "languages": self.index.store.languages(),
                "analyzer": (m.get("analyzer") or {}).get("name"), "encoder": encoder and encoder.get("name"),
                "sparse": bool(m.get("sparse")), "modes": self.modes(), "default_mode": self.modes()[0],
                "writable": self.writable, "calibrated": [mode for mode, spec in self.calibrated.items() if spec]}

    # --- search -------------------------------------------------------------------------------
    def search(self, text: str, lang: str, mode: str, depth: int, doc_langs: set[str] | None,
               query_langs: frozenset[str] | None = None, with_evidence: bool = False):
        """The ranked (doc id, score) list of one query, at most ``depth`` long. ``lang``: the
        language the query is analysed in; ``query_langs``: the languages it may be written in
        (None: any), for the hybrid's language-aware fusion (as ``babelir search --mode hybrid``:
        z-score fusion of every mode the index has, with ``babelir tune``'s weights for ``lang``
        when stored; :mod:`babelir.retrieve.language_gate`), each mode's run :data:`FUSION_DEPTH`
        deep whatever ``depth``. In an index whose documents have groups, each document also gains
        its group's evidence. The same arguments give the same list, so pages cut from it agree.

        ``with_evidence``: return (that list, its :class:`Evidence`: the lists abstention reads,
        :mod:`babelir.serve.abstention`)."""
        from babelir.retrieve.grouped import MIN_DEPTH, default_group_weight, with_group_evidence
        from babelir.retrieve.hybrid import DEFAULT_FUSION, default_modes, fusion_function, tuned_weights
        from babelir.retrieve.language_gate import dense_calibrated, fuse_runs, run_scopes

        if mode not in self.modes():
            raise BabelirError(f"index {self.name} does not support mode {mode!r} (it supports "
                               f"{', '.join(self.modes())})")
        with self._index_lock:
            weight = default_group_weight(self.index)
        wide = max(depth, MIN_DEPTH)
        if mode != "hybrid":
            ranking = self._single(mode, text, lang, wide if weight else depth, doc_langs)
            stages = {mode: ranking}
        else:
            parts = default_modes(self.index)
            fused_depth = max(FUSION_DEPTH, MIN_DEPTH)
            stages = {m: self._single(m, text, lang, fused_depth, doc_langs) for m in parts}
            runs = [Run({"q": dict(stages[m])}) for m in parts]
            weights = (tuned_weights(self.index, parts, DEFAULT_FUSION) or {}).get(lang)  # babelir tune's, if any
            with self._index_lock:
                where = run_scopes(parts, dense_calibrated(self.index, None))
                fused = fuse_runs(self.index, runs, where, fusion_function(DEFAULT_FUSION), weights, {"q": query_langs})
            ranking = fused.ranking("q") if "q" in fused else []
        evidence = Evidence(stages, ranking, weight)
        if weight and ranking:
            with self._index_lock:
                ranking = with_group_evidence(self.index, Run({"q": dict(ranking)}), weight, wide).ranking("q")
        return (ranking[:depth], evidence) if with_evidence else ranking[:depth]

    def pipeline_top(self, evidence: "Evidence", k: int) -> list[tuple[str, float]]:
        """The top ``k`` that ``babelir search --k k`` gives for the search ``evidence`` is of: the
        same unless the documents have groups, whose evidence that pipeline standardises over the
        top ``max(k, 100)`` before them (the service: over the whole ranking, so every page is cut
        from one list)."""
        from babelir.retrieve.grouped import MIN_DEPTH, with_group_evidence

        ranking = evidence.before_groups
        if not evidence.group_weight or not ranking:
            return ranking[:k]
        wide = max(k, MIN_DEPTH)
        with self._index_lock:
            grouped = with_group_evidence(self.index, Run({"q": dict(ranking[:wide])}), evidence.group_weight, wide)
        return grouped.ranking("q")[:k]

    def _single(self, mode: str, text: str, lang: str, depth: int, doc_langs) -> list[tuple[str, float]]:
        from babelir.index.milvus import backend_of

        milvus = backend_of(self.index)  # an index mirrored into Milvus: its first stages search there
        if mode == "bm25":
            with self._index_lock:
                if milvus is not None:
                    from babelir.retrieve.milvus import search_bm25

                    return search_bm25(self.index, milvus, [text], [lang], depth, doc_langs)[0]
                return self.index.search(text, depth, lang, doc_langs=doc_langs)
        with self._encoder_lock:
            encoder = self.index.encoder
            encoded = encoder.encode_queries([text]) if mode == "dense" else encoder.encode_sparse([text])
        with self._index_lock:
            if milvus is not None:
                from babelir.retrieve import milvus as through

                if mode == "dense":
                    return through.search_dense(self.index, milvus, encoded, depth, [lang], doc_langs=doc_langs)[0]
                return through.search_sparse(self.index, milvus, encoded, depth, doc_langs)[0]
            if mode == "dense":
                return self.index.search_dense(encoded, depth, query_langs=[lang], doc_langs=doc_langs)[0]
            return self.index.search_sparse([text], depth, doc_langs=doc_langs, encoded=encoded)[0]

    def query_terms(self, text: str, lang: str) -> set[str]:
        """The query's analysed terms (for highlighting). Analysers (sudachi, kiwi …) are not
        thread-safe, so every analysis runs under the index's lock."""
        with self._index_lock:
            return set(Counter(self.index.analyzer.analyze(text, lang)))

    def highlighter(self, query: str, lang: str, terms: set[str]):
        """A :class:`~babelir.serve.highlight.Highlighter` for one request's hits, over
        :meth:`word_terms`: a request with long documents never holds the lock for more than one
        window of text at once."""
        return Highlighter(query, lang, terms, self.word_terms)

    def word_terms(self, words: list[str], lang: str | None) -> list[tuple[str, ...]]:
        """The word terms of each of ``words`` (no subword pieces), from the index's cache of word
        analyses; only the words it misses are analysed, under the lock, all at once. (A dict
        lookup is atomic: a window of known words takes no lock, so a page of long documents
        never queues behind other requests once per window.)"""
        cache = self._word_terms
        missing = {word for word in words if (word, lang) not in cache}
        if missing:
            with self._index_lock:
                for word in missing:
                    if len(cache) >= WORD_CACHE:
                        cache.pop(next(iter(cache)), None)
                    cache[word, lang] = tuple(self._word_analysis(word, lang))
        found = [cache.get((word, lang)) for word in words]
        if any(terms is None for terms in found):  # dropped by another thread meanwhile: analyse again
            with self._index_lock:
                found = [tuple(self._word_analysis(w, lang)) if t is None else t for w, t in zip(words, found)]
        return found

    def documents(self, ids: list[str]) -> dict[str, tuple[str | None, str, str]]:
        with self._index_lock:
            return self.index.documents(ids)

    # --- writing ------------------------------------------------------------------------------
    def add(self, docs) -> int:
        """Add documents (and their vectors when the index has them); returns how many. They are
        encoded under the encoder's lock only, so searches go on while a long text is encoded."""
        with self._encoder_lock:
            encoded = self.index.encode(docs)
        with self._index_lock:
            self.index.add(docs, encoded=encoded)
            return len(docs)

    def delete(self, ids: list[str]) -> int:
        with self._index_lock:
            return self.index.delete(ids)

    def close(self) -> None:
        self.index.close()
