"""Calibrated abstention behind the HTTP API: per search, P(a relevant document is in the top k)
and the mark answerable or not (:mod:`babelir.abstain`).

A search of the service in a mode (and a language filter) is the pipeline ``babelir search --mode
MODE [--doc-langs …]`` stands for (:func:`babelir.retrieve.pipeline.mode_spec`); its calibration is
the one ``babelir abstain calibrate`` stored in the index for that pipeline
(:func:`babelir.abstain.calibration.default_path`). Each is looked up once per index and pipeline
(the default modes when the service starts, a filtered search's pipeline on its first request) and
kept, found or not: no request reads a file. A missing calibration gives ``None`` (the API answers
``"abstain": null``); a malformed one, or one made for another pipeline or index, gives ``None``
and one warning on the ``babelir.serve`` logger, naming the index and the file inside it.

The features are those of :mod:`babelir.abstain.features`, taken over the service's own search:
the final ranking and each first stage's (bm25, dense, sparse) ranking before fusion, the lists
``babelir search`` taps in the same pipeline (``test_serve_abstain`` checks they agree).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger("babelir.serve")
MAX_PIPELINES = 256  # (mode, language filter) lookups an index keeps at most


@dataclass(frozen=True)
class Loaded:
    """A calibration ready for the service: the pipeline spec, the calibration, and for each of
    its signals the service's list it reads (``final`` or a mode: bm25, dense, sparse)."""

    pipeline: str
    calibration: object  # babelir.abstain.calibration.Calibration
    sources: tuple[str, ...]


class Abstention:
    """The calibrations of one index, by (mode, language filter); see the module's doc.

    ``lock``: the lock the index's stages are built under (building a pipeline reads the index)."""

    def __init__(self, name: str, directory: str | Path, index, lock):
        self.name, self.directory, self.index, self._index_lock = name, Path(directory), index, lock
        self._found: dict[tuple[str, frozenset | None], Loaded | None] = {}
        self._lock = threading.Lock()

    def preload(self, modes: list[str]) -> dict[str, str | None]:
        """Look up the calibration of each of ``modes`` (no language filter) now; mode -> its
        pipeline spec when calibrated, else None."""
        return {mode: (found.pipeline if (found := self.lookup(mode, None)) else None) for mode in modes}

    def lookup(self, mode: str, doc_langs: set[str] | None) -> Loaded | None:
        """The calibration of a search in ``mode`` over documents in ``doc_langs`` (None: all),
        loaded on the first call and kept (None, kept too, when there is none or it is unusable)."""
        key = (mode, None if doc_langs is None else frozenset(doc_langs))
        with self._lock:
            if key in self._found:
                return self._found[key]
        found = self._load(mode, doc_langs)
        with self._lock:
            if len(self._found) >= MAX_PIPELINES:
                self._found.pop(next(iter(self._found)))
            self._found[key] = found
        return found

    def _load(self, mode: str, doc_langs: set[str] | None) -> Loaded | None:
        from babelir.abstain.calibration import check_matches, default_path, load
        from babelir.errors import BabelirError
        from babelir.retrieve.pipeline import mode_spec, parse_pipeline

        try:
            with self._index_lock:
                pipeline = parse_pipeline(mode_spec(self.index, mode, doc_langs=None if doc_langs is None
                                                    else ",".join(sorted(doc_langs))), self.index)
                try:
                    spec, retrievers = pipeline.describe(), _first_stages(pipeline)
                finally:
                    pipeline.close()
        except BabelirError as exc:  # a mode this index cannot build: no calibration to look for
            LOG.warning("index %s: no abstention for mode %s (%s)", self.name, mode, exc)
            return None
        path = default_path(self.directory, spec)
        shown = f"calibration/{path.name}"  # inside the index, never its directory
        if not path.exists():
            return None
        try:
            calibration = load(path)
            check_matches(calibration, shown, spec, self.index)
        except BabelirError as exc:
            LOG.warning("index %s: %s ignored, searches in mode %s answer abstain: null (%s)", self.name, shown, mode,
                        str(exc).replace(str(path), shown))
            return None
        sources = tuple(signal if signal in ("final", "lexical") else retrievers.get(signal, "")
                        for signal in calibration.signals)
        if "" in sources:
            LOG.warning("index %s: %s reads first stages this service does not run (%s); searches in mode %s answer "
                        "abstain: null", self.name, shown, ", ".join(calibration.signals), mode)
            return None
        return Loaded(spec, calibration, sources)

    def decide(self, loaded: Loaded, lang: str, final, first_stages: dict, max_hallucination: float | None,
               text: str = "") -> dict:
        """The ``abstain`` object of one search: ``{"p", "answerable", "threshold", "lang", "model",
        "k"}``. ``final``: the pipeline's top k ((doc id, score) list, best first,
        :meth:`babelir.serve.service.IndexService.pipeline_top`); ``first_stages``: mode -> that
        mode's ranking before fusion; ``lang``: the query's language; ``text``: the query."""
        from babelir.abstain.decide import Searched, decide
        from babelir.abstain.features import COVER_DEPTH, lexical_features, query_features
        from babelir.run import Run

        calibration = loaded.calibration
        lists = {"final": {"q": dict(final)}}
        runs = {signal: {"q": dict(first_stages.get(source, []))}
                for signal, source in zip(calibration.signals, loaded.sources) if signal not in ("final", "lexical")}
        lexical = None
        if "lexical" in calibration.signals:
            with self._index_lock:  # the store and the postings segments, shared with the service's searches
                lexical = lexical_features(self.index, text, lang, [d for d, _ in list(final)[:COVER_DEPTH]])
        features = query_features("q", lists["final"], runs, calibration.signals, calibration.k, lexical)
        decision = decide(calibration, Searched(Run({}), {"q": lang}, {"q": features}, calibration.signals),
                          max_hallucination)["q"]
        return {"p": round(decision.p, 4), "answerable": bool(decision.answerable),
                "threshold": round(decision.threshold, 4), "lang": decision.lang, "model": decision.model,
                "k": calibration.k}


def _first_stages(pipeline) -> dict[str, str]:
    """The pipeline's first stages: their spec (the calibration's signal name) -> their mode."""
    from babelir.retrieve.stage import Fuse, Retriever, Then

    found: dict[str, str] = {}
    stages = pipeline.stages() if isinstance(pipeline, Then) else [pipeline]
    for stage in stages:
        for part in (stage.stages if isinstance(stage, Fuse) else [stage]):
            if isinstance(part, Retriever):
                found[part.describe()] = part.mode
    return found
