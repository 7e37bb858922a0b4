"""Hybrid retrieval: runs of several retrievers fused (language-aware by default); the maths behind
:class:`babelir.retrieve.stage.Fuse`."""

from __future__ import annotations

import math
from collections.abc import Iterable

from babelir.errors import BabelirError
from babelir.fuse import linear, rrf, zscore
from babelir.index.core import Index
from babelir.run import Run
from babelir.types import Query


FUSIONS = ("zscore", "linear", "rrf")
SCOPED = ("bm25", "dense", "sparse")  # the modes language_gate.run_scopes knows; any other stage counts within languages
DEFAULT_FUSION = "zscore"  # measured best on XQuAD-R (docs/benchmarks.md): .8638 against linear .8623, rrf .8508


def default_modes(index: Index) -> tuple[str, ...]:
    """The modes a hybrid fuses when none are named: bm25 and dense, and sparse when the index has
    learned sparse vectors."""
    return ("bm25", "dense", "sparse") if index.manifest.get("sparse") else ("bm25", "dense")


def parse_modes(spec: str) -> tuple[str, ...]:
    """``"bm25,dense"`` as modes to fuse: two or more different ones of bm25, dense, sparse."""
    modes = tuple(m.strip() for m in spec.split(",") if m.strip())
    if not set(modes) <= {"bm25", "dense", "sparse"} or len(set(modes)) != len(modes) or len(modes) < 2:
        raise BabelirError(f"--hybrid-of takes two or more of bm25, dense, sparse; got {spec!r}")
    return modes


def fusion_function(fusion: str):
    """``fuse(runs, weights) -> Run`` for a fusion name (RRF takes no weights)."""
    if fusion == "rrf":
        return lambda runs, weights=None: rrf(runs)
    if fusion == "linear":
        return linear
    if fusion == "zscore":
        return zscore
    raise BabelirError(f"unknown fusion {fusion!r}; known: {', '.join(FUSIONS)}")


def tuned_weights(index: Index, modes, fusion: str) -> dict[str, list[float]] | None:
    """``language -> weights`` stored by ``babelir tune`` for these ``modes`` and ``fusion``, if any."""
    stored = index.manifest.get("fusion_weights")
    if stored and stored["modes"] == list(modes) and stored["fusion"] == fusion:
        return stored["by_lang"]
    return None


class HybridRetriever:
    """Runs of several modes (each to ``depth``) fused by a weighted sum of z-scores (``zscore``,
    the default), by min-max normalised linear interpolation (``linear``) or by RRF.

    ``retrievers``: objects with ``retrieve(queries, k, lang, quiet) -> Run`` (stages); ``modes``: their
    names (bm25, dense, sparse set where their evidence holds; any other counts within languages). ``weights``: linear / zscore
    fusion weights, one per mode (finite, 0 or more; scaled to sum 1); without them, the per-language weights ``babelir tune`` stored
    in the index for these modes and this fusion, else equal weights. ``language_aware`` (default):
    BM25's evidence counts only for documents in a language the query may be written in, the
    fusion orders each language's documents, and dense scores (calibrated across languages by its
    correction) interleave the languages (:mod:`babelir.retrieve.language_gate`); False fuses every
    run over every document."""

    def __init__(self, index: Index, retrievers, modes: tuple[str, ...], fusion: str = DEFAULT_FUSION,
                 weights: list[float] | None = None, depth: int = 100, debias: bool | None = None,
                 standardise: bool = True, language_aware: bool = True):
        self.index = index
        modes = tuple(modes)
        self._fuse = fusion_function(fusion)
        if weights is not None:
            if len(weights) != len(modes):
                raise BabelirError(f"{len(modes)} modes ({', '.join(modes)}) but {len(weights)} weights")
            if not all(math.isfinite(w) and w >= 0 for w in weights) or not any(weights):
                raise BabelirError(f"fusion weights must be finite, 0 or more, and not all 0; got {list(weights)}")
            largest = max(weights)  # only their ratios matter: scaled to sum 1 (1e308 would overflow)
            weights = [w / largest for w in weights]
            weights = [w / sum(weights) for w in weights]
        self.retrievers = list(retrievers)
        self.modes, self.fusion, self.weights, self.depth = modes, fusion, weights, depth
        self.debias, self.standardise, self.language_aware = debias, standardise, language_aware

    def retrieve(self, queries: Iterable[Query], k: int = 100, lang: str | None = "auto", quiet: bool = True) -> Run:
        from babelir.fuse import WITHIN
        from babelir.retrieve.language_gate import dense_calibrated, fuse_runs, query_languages, run_scopes

        queries = list(queries)
        depth = max(k, self.depth)
        runs = [r.retrieve(queries, depth, lang, quiet) for r in self.retrievers]
        langs, where = {}, []
        if self.language_aware:
            langs = {q.id: query_languages(q, lang) for q in queries}
            calibrated = "dense" in self.modes and dense_calibrated(self.index, self.debias, self.standardise)
            where = [run_scopes([m], calibrated)[0] if m in SCOPED else WITHIN for m in self.modes]
        fused: dict[str, dict[str, float]] = {}
        for ids, weights in self._weight_groups(queries, lang):
            subset = [Run({q: run[q] for q in ids if q in run}) for run in runs]
            part = fuse_runs(self.index, subset, where, self._fuse, weights,
                             {q: langs[q] for q in ids} if langs else {}, self.language_aware)
            fused.update({q: part[q] for q in part})
        in_order = {q.id: fused[q.id] for q in queries if q.id in fused}  # the topics' order
        return Run(in_order, name=f"babelir-hybrid-{self.fusion}").cutoff(k)

    def _weight_groups(self, queries: list[Query], lang: str | None) -> list[tuple[list[str], list[float] | None]]:
        """Query ids grouped by the fusion weights they take: the given ones, else those ``babelir
        tune`` stored for each query's language, else None (equal)."""
        tuned = self._tuned_weights()
        if self.weights is not None or not tuned:
            return [([q.id for q in queries], self.weights)]
        from babelir.retrieve.language_gate import analysis_language

        groups: dict[str, list[str]] = {}
        for query in queries:
            query_lang = analysis_language(query, self.index, lang)
            groups.setdefault(query_lang, []).append(query.id)
        return [(ids, tuned.get(query_lang)) for query_lang, ids in groups.items()]

    def _tuned_weights(self) -> dict[str, list[float]] | None:
        return tuned_weights(self.index, self.modes, self.fusion)

    def close(self) -> None:
        self.index.close()
