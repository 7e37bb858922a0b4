"""Stages: the one contract every part of a search implements, and how stages compose.

A **stage** takes queries (and the previous stage's :class:`~babelir.run.Run`, if any) and returns
a Run. Retrievers, fusion, rerankers, group evidence and filters are all stages::

    from babelir.retrieve.stage import BM25, Dense, GroupEvidence

    pipeline = (BM25(ix) | Dense(ix)).fuse("zscore") >> GroupEvidence()
    run = pipeline.retrieve(queries, k=100)          # query id -> {doc id: score}, top 100
    print(pipeline)          # hybrid(bm25,dense,fusion=zscore) >> group(weight=1.0) (the default for ix)

- ``a >> b`` (:class:`Then`): ``b`` transforms ``a``'s Run; when ``b.index`` is None it takes ``a``'s.
- ``a | b`` (:class:`Union`) gathers runs; ``.fuse("zscore" | "linear" | "rrf", weights=None)``
  turns it into a fusion stage (:class:`Fuse`).
- ``describe()`` (and ``str()``) gives the stage in the spec syntax of ``babelir search
  --pipeline`` (:mod:`babelir.retrieve.pipeline`); two stages are equal when their descriptions are.

**Writing a stage.** Subclass :class:`Stage`, implement ``transform`` and ``describe``; register a
factory to use it on the command line. A filter that drops the documents of one language::

    from babelir.retrieve.stage import Stage
    from babelir.retrieve.pipeline import register_stage
    from babelir.run import Run

    class DropLang(Stage):
        def __init__(self, lang, index=None):
            self.lang, self.index = lang, index

        def transform(self, queries, run=None):
            ids = sorted({d for q in run for d in run[q]})
            langs = self.index.store.langs(ids)             # doc id -> language
            return Run({q: {d: s for d, s in run[q].items() if langs[d] != self.lang} for q in run})

        def describe(self):
            return f"drop({self.lang})"

    register_stage("drop", DropLang)   # babelir search IX --pipeline "bm25 >> drop(th)"
    run = (BM25(ix) >> DropLang("th")).retrieve(queries, k=10)

The depth of a search: ``retrieve(queries, k)`` asks for ``k`` documents per query; a retriever
without its own ``k`` retrieves :func:`requested_k` documents, and a stage that needs a deeper
input than it gives says so by :meth:`Stage.input_depth` (group evidence and fusion look at 100
documents per query at least). ``transform`` itself never cuts; ``retrieve`` cuts at ``k``.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from babelir.errors import BabelirError
from babelir.run import Run
from babelir.types import Query

DEFAULT_K = 100
_K = contextvars.ContextVar("babelir_requested_k", default=DEFAULT_K)
_QUIET = contextvars.ContextVar("babelir_quiet", default=True)
_TAP = contextvars.ContextVar("babelir_first_stage_runs", default=None)


def requested_k() -> int:
    """The number of documents per query the running search asks the current stage for."""
    return _K.get()


def quiet() -> bool:
    """Whether the running search shows no progress bar."""
    return _QUIET.get()


@contextlib.contextmanager
def asking(k: int, quiet: bool | None = None) -> Iterator[None]:
    """Within the block, :func:`requested_k` is ``k`` (and :func:`quiet` is ``quiet`` when given)."""
    token = _K.set(k)
    quiet_token = _QUIET.set(quiet) if quiet is not None else None
    try:
        yield
    finally:
        _K.reset(token)
        if quiet_token is not None:
            _QUIET.reset(quiet_token)


@contextlib.contextmanager
def tapping() -> Iterator[dict[str, dict[str, dict[str, float]]]]:
    """Within it, every first stage (:class:`Retriever`) keeps its Run, before fusion and later
    stages: ``{stage spec: {query id: {doc id: score}}}`` (the evidence behind a fused run; read by
    :mod:`babelir.abstain.features`)."""
    runs: dict[str, dict[str, dict[str, float]]] = {}
    token = _TAP.set(runs)
    try:
        yield runs
    finally:
        _TAP.reset(token)


def with_language(queries, lang: str | None) -> list[Query]:
    """``queries`` as a list; those without a language take ``lang`` (a code; None or ``auto``:
    left to detection)."""
    queries = list(queries)
    if lang in (None, "auto"):
        return queries
    return [q if q.lang else dataclasses.replace(q, lang=lang) for q in queries]


class Stage:
    """One step of a search: ``transform(queries, run=None) -> Run``.

    Attributes: ``index`` (a :class:`babelir.index.core.Index` or None; a later stage without one
    takes its predecessor's). Subclasses implement :meth:`transform` and :meth:`describe`, and may
    override :meth:`input_depth` and :meth:`close`."""

    index = None

    def transform(self, queries: list[Query], run: Run | None = None) -> Run:
        """The Run of ``queries`` (given the previous stage's ``run``; None for a first stage)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The stage in the spec syntax of :mod:`babelir.retrieve.pipeline`."""
        raise NotImplementedError

    def input_depth(self, k: int) -> int:
        """How many documents per query this stage needs from its predecessor to give ``k``."""
        return k

    def close(self) -> None:
        """Release what the stage opened itself (an index opened from a path, a model)."""

    def retrieve(self, queries, k: int = DEFAULT_K, lang: str | None = "auto", quiet: bool = True) -> Run:
        """Run the stage as a whole search: ``queries`` (a query without a language takes
        ``lang``, a code, or ``auto`` to detect it) -> the top ``k`` documents per query."""
        queries = with_language(queries, lang)
        with asking(k, quiet):
            return self.transform(queries, None).cutoff(k)

    def __rshift__(self, other: "Stage") -> "Then":
        return Then(self, other)

    def __or__(self, other: "Stage") -> "Union":
        return Union(self, other)

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Stage) and type(self) is type(other) and self.describe() == other.describe()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.describe()))


def is_stage(value) -> bool:
    """Whether ``value`` keeps the stage contract (a :class:`Stage`, or any object with
    ``transform`` and ``describe``)."""
    return isinstance(value, Stage) or (callable(getattr(value, "transform", None))
                                        and callable(getattr(value, "describe", None)))


def input_depth(stage, k: int) -> int:
    """``stage.input_depth(k)``; a stage without the method needs ``k`` (a reranker of the top
    ``depth`` documents needs ``max(k, depth)``)."""
    needs = getattr(stage, "input_depth", None)
    if needs is not None:
        return needs(k)
    return max(k, stage.depth) if isinstance(getattr(stage, "depth", None), int) else k


class Then(Stage):
    """``first >> second``: ``second`` transforms ``first``'s Run."""

    def __init__(self, first: Stage, second: Stage):
        for stage in (first, second):
            if not is_stage(stage):
                raise BabelirError(f">> joins stages, not {type(stage).__name__}")
            if isinstance(stage, Union):
                raise BabelirError(f"{stage.describe()}: a union of runs must be fused first: (a | b).fuse('zscore')")
        if getattr(second, "index", None) is None:
            second.index = first.index
        self.first, self.second = first, second
        self.index = first.index

    def transform(self, queries, run=None):
        with asking(input_depth(self.second, requested_k())):
            first = self.first.transform(queries, run)
        return self.second.transform(queries, first)

    def input_depth(self, k):
        return input_depth(self.first, input_depth(self.second, k))

    def stages(self) -> list[Stage]:
        """The stages in order (nested ``>>`` flattened)."""
        return [s for part in (self.first, self.second)
                for s in (part.stages() if isinstance(part, Then) else [part])]

    def describe(self):
        return " >> ".join(s.describe() for s in self.stages())

    def close(self):
        for stage in self.stages():
            if callable(getattr(stage, "close", None)):
                stage.close()


class Union(Stage):
    """``a | b | …``: runs to be fused; :meth:`fuse` makes the fusion stage."""

    def __init__(self, *stages: Stage):
        self.stages = [s for stage in stages for s in (stage.stages if isinstance(stage, Union) else [stage])]
        self.index = next((s.index for s in self.stages if s.index is not None), None)

    def fuse(self, fusion: str = "zscore", weights: Sequence[float] | None = None, depth: int = 100,
             language_aware: bool = True) -> "Fuse":
        """The fusion stage of these runs (see :class:`Fuse`)."""
        return Fuse(self.stages, fusion, weights, depth, language_aware)

    def transform(self, queries, run=None):
        raise BabelirError(f"{self.describe()}: a union of runs must be fused: (a | b).fuse('zscore')")

    def describe(self):
        return " | ".join(s.describe() for s in self.stages)

    def close(self):
        for stage in self.stages:
            stage.close()


# --- the built-in stages ------------------------------------------------------------------------


def _value(value) -> str:
    """A parameter value in spec syntax: true/false, numbers as Python prints them, lists in []."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ",".join(_value(v) for v in (sorted(value) if isinstance(value, (set, frozenset)) else value)) + "]"
    return str(value)


def call(name: str, *positional, **options) -> str:
    """``name(p1,p2,key=value,…)`` with the options that are not None; ``name`` alone without any."""
    parts = [_value(p) for p in positional] + [f"{key}={_value(v)}" for key, v in options.items() if v is not None]
    return f"{name}({','.join(parts)})" if parts else name


def open_index(index):
    """``(Index, opened_here)`` for an Index or an index directory."""
    from babelir.index.core import Index

    if isinstance(index, Index):
        return index, False
    if isinstance(index, (str, Path)):
        return Index.open(index), True
    raise BabelirError(f"a retriever needs an index (a directory or an Index), not {type(index).__name__}")


class Retriever(Stage):
    """A first stage: queries -> the top ``k`` documents of an index (``k`` None: as many as the
    search asks for). Wraps a retriever of :mod:`babelir.retrieve.bm25` / :mod:`~.dense`."""

    mode = ""

    def __init__(self, index, k: int | None = None):
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise BabelirError(f"{self.mode}: k must be a whole number, 1 or more, not {k!r}")
        self.index, self._owns = open_index(index)
        self.k = k

    def transform(self, queries, run=None):
        if run is not None:
            raise BabelirError(f"{self.describe()} is a first stage: it takes queries, not a run "
                               "(fuse several retrievers with hybrid(...) or (a | b).fuse(...))")
        result = self._retriever.retrieve(queries, self.k or requested_k(), lang="auto", quiet=quiet())
        tap = _TAP.get()
        if tap is not None:
            tap.setdefault(self.describe(), {}).update({q: result[q] for q in result})
        return result

    def close(self):
        if self._owns:
            self.index.close()
            self._owns = False


def _milvus(index):
    """The Milvus backend record a first stage over ``index`` searches through, or None
    (:func:`babelir.index.milvus.backend_of`)."""
    from babelir.index.milvus import backend_of

    return backend_of(index)


def _langs(index, doc_langs):
    return None if doc_langs is None else sorted(index.language_filter(doc_langs))


class BM25(Retriever):
    """BM25 over the index (:class:`babelir.retrieve.bm25.BM25Retriever`; Robertson & Zaragoza 2009).
    ``k1`` / ``b``: override the index's parameters; ``doc_langs``: only documents of these
    languages (codes, or a comma-separated string)."""

    mode = "bm25"

    def __init__(self, index, k1: float | None = None, b: float | None = None, doc_langs=None, k: int | None = None):
        from babelir.retrieve.bm25 import BM25Retriever

        super().__init__(index, k)
        self.k1, self.b, self.doc_langs = k1, b, _langs(self.index, doc_langs)
        milvus = _milvus(self.index)
        if milvus is not None:
            from babelir.retrieve.milvus import MilvusBM25Retriever

            self._retriever = MilvusBM25Retriever(self.index, milvus, k1=k1, b=b, doc_langs=self.doc_langs)
        else:
            self._retriever = BM25Retriever(self.index, k1=k1, b=b, doc_langs=self.doc_langs)

    def describe(self):
        return call("bm25", k1=self.k1, b=self.b, doc_langs=self.doc_langs, k=self.k)


class Dense(Retriever):
    """Cosine similarity to the encoded query (:class:`babelir.retrieve.dense.DenseRetriever`).
    ``debias``: None corrects language bias when the index holds several languages (True / False
    force it); ``standardise=False`` keeps only the language-mean removal; ``exact``: never the ANN
    graphs; ``doc_langs``: only documents of these languages."""

    mode = "dense"

    def __init__(self, index, debias: bool | None = None, standardise: bool = True, exact: bool = False,
                 doc_langs=None, k: int | None = None):
        from babelir.retrieve.dense import DenseRetriever

        super().__init__(index, k)
        self.debias, self.standardise, self.exact = debias, standardise, exact
        self.doc_langs = _langs(self.index, doc_langs)
        milvus = _milvus(self.index)
        if milvus is not None:
            from babelir.retrieve.milvus import MilvusDenseRetriever

            self._retriever = MilvusDenseRetriever(self.index, milvus, debias=debias, standardise=standardise,
                                                   doc_langs=self.doc_langs)
        else:
            self._retriever = DenseRetriever(self.index, debias=debias, standardise=standardise,
                                             doc_langs=self.doc_langs, exact=exact)

    def describe(self):
        return call("dense", debias=self.debias, standardise=None if self.standardise else False,
                    exact=self.exact or None, doc_langs=self.doc_langs, k=self.k)


class Sparse(Retriever):
    """Learned sparse retrieval (:class:`babelir.retrieve.dense.SparseRetriever`); ``doc_langs``:
    only documents of these languages."""

    mode = "sparse"

    def __init__(self, index, doc_langs=None, k: int | None = None):
        from babelir.retrieve.dense import SparseRetriever

        super().__init__(index, k)
        self.doc_langs = _langs(self.index, doc_langs)
        milvus = _milvus(self.index)
        if milvus is not None:
            from babelir.retrieve.milvus import MilvusSparseRetriever

            self._retriever = MilvusSparseRetriever(self.index, milvus, doc_langs=self.doc_langs)
        else:
            self._retriever = SparseRetriever(self.index, doc_langs=self.doc_langs)

    def describe(self):
        return call("sparse", doc_langs=self.doc_langs, k=self.k)


class Fuse(Stage):
    """Several first stages, each ``max(k, depth)`` deep, fused (:class:`babelir.retrieve.hybrid.HybridRetriever`):
    ``zscore`` (default; measured best on XQuAD-R), ``linear`` (min-max) or ``rrf`` (Cormack et al.
    2009). ``weights``: one per stage; without them, the per-language weights ``babelir tune``
    stored in the index for these modes and this fusion, else equal. ``language_aware``: BM25's
    evidence counts only for documents in a language the query may be written in
    (:mod:`babelir.retrieve.language_gate`)."""

    def __init__(self, stages: Sequence[Stage], fusion: str = "zscore", weights: Sequence[float] | None = None,
                 depth: int = 100, language_aware: bool = True):
        from babelir.retrieve.hybrid import HybridRetriever

        self.stages = list(stages)
        if len(self.stages) < 2:
            raise BabelirError("fusion takes two or more stages")
        self.index = next((s.index for s in self.stages if s.index is not None), None)
        if self.index is None:
            raise BabelirError("fusion needs stages over an index")
        dense = next((s for s in self.stages if isinstance(s, Dense)), None)
        modes = tuple(getattr(s, "mode", "") or s.describe() for s in self.stages)
        self.fusion, self.depth, self.language_aware = fusion, depth, language_aware
        self._hybrid = HybridRetriever(self.index, self.stages, modes, fusion=fusion, weights=weights, depth=depth,
                                       debias=dense.debias if dense else None,
                                       standardise=dense.standardise if dense else True,
                                       language_aware=language_aware)
        self.weights = None if weights is None else list(weights)
        self._owns = False

    def transform(self, queries, run=None):
        if run is not None:
            raise BabelirError(f"{self.describe()} fuses first stages: it takes queries, not a run")
        return self._hybrid.retrieve(queries, requested_k(), lang="auto", quiet=quiet())

    def describe(self):
        return call("hybrid", *[s.describe() for s in self.stages], fusion=self.fusion, weights=self.weights,
                    depth=None if self.depth == 100 else self.depth,
                    language_aware=None if self.language_aware else False)

    def close(self):
        for stage in self.stages:
            stage.close()
        if self._owns:
            self.index.close()


def Hybrid(index, modes: Sequence[str] | None = None, fusion: str = "zscore", weights=None, depth: int = 100,
           language_aware: bool = True) -> Fuse:
    """The fusion of ``modes`` (default: :func:`babelir.retrieve.hybrid.default_modes`: bm25, dense,
    and sparse when the index has it) over ``index`` with their default options."""
    from babelir.retrieve.hybrid import default_modes

    index, owns = open_index(index)
    kinds = {"bm25": BM25, "dense": Dense, "sparse": Sparse}
    fused = Fuse([kinds[m](index) for m in (modes or default_modes(index))], fusion, weights, depth, language_aware)
    fused._owns = owns
    return fused


class GroupEvidence(Stage):
    """Each document of the incoming Run gains its group's best score times ``weight``
    (:func:`babelir.fuse.group_evidence`), over each query's top ``max(k, 100)``. ``weight`` None:
    :func:`babelir.retrieve.grouped.default_group_weight` (1.0 for an index with groups in one
    language, else 0: the stage passes its input through)."""

    def __init__(self, weight: float | None = None, index=None):
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or not math.isfinite(weight) or weight < 0):
            raise BabelirError(f"the group weight must be a number, 0 or more, not {weight}")
        self.weight, self.index = weight, index

    def effective_weight(self) -> float:
        from babelir.retrieve.grouped import default_group_weight

        if self.weight is not None:
            return float(self.weight)
        return 0.0 if self.index is None else default_group_weight(self.index)

    def input_depth(self, k):
        from babelir.retrieve.grouped import MIN_DEPTH

        return max(k, MIN_DEPTH) if self.effective_weight() > 0 else k

    def transform(self, queries, run=None):
        from babelir.retrieve.grouped import with_group_evidence

        if run is None:
            raise BabelirError("group evidence rescores a run: put a retriever before it (bm25 >> group)")
        weight = self.effective_weight()
        if weight == 0:
            return run
        if self.index is None:
            raise BabelirError("group evidence needs an index: put a retriever before it")
        k = requested_k()
        return with_group_evidence(self.index, run, weight, self.input_depth(k)).cutoff(k)

    def describe(self):
        """``group(weight=W)``: the weight given, else the default it takes over its index (plain
        ``group`` before it has one)."""
        if self.weight is None and self.index is None:
            return "group"
        return call("group", weight=float(self.effective_weight()))
