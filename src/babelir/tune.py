"""Per-language fusion weights picked on a dev split of the queries (``babelir tune``).

Queries are split by a hash of their id (stable, no randomness): a ``dev_fraction`` of each
language's queries is the dev split, the rest is held out. For each language, every weight vector
on a grid of ``step`` (non-negative, summing to 1) is scored on the dev split; the best is kept and
then measured on the held-out split against equal weights, so the report says whether tuning
helped. The weights are stored in the index manifest (``fusion_weights``) and hybrid search uses
them for queries of that language when no ``--weights`` are given.

What is tuned is the fusion stage of a pipeline spec (:mod:`babelir.retrieve.pipeline`), the same
spec ``babelir search --pipeline`` and the repro matrix rows take: :func:`tune_pipeline`.
``babelir tune --hybrid-of bm25,dense --fusion zscore`` is shorthand for the spec
``hybrid(bm25,dense,fusion=zscore)`` (:func:`shorthand_spec`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from babelir.errors import BabelirError
from babelir.run import Run
from babelir.types import Qrel, Query


MAX_GRID = 10_000  # weight vectors scored at most (each one fuses and evaluates every query)


def is_dev(query_id: str, fraction: float) -> bool:
    """Whether a query belongs to the dev split (stable: a hash of its id)."""
    return int.from_bytes(hashlib.sha256(query_id.encode()).digest()[:4], "big") / 2**32 < fraction


def weight_grid(n: int, step: float) -> list[tuple[float, ...]]:
    """Every ``n``-vector of non-negative multiples of ``step`` that sums to 1."""
    if not (0 < step <= 1):  # also refuses nan
        raise BabelirError(f"--step must be a number above 0 that divides 1 (0.1, 0.05, 0.25 …); got {step}")
    units = round(1 / step)
    if abs(units * step - 1) > 1e-9 or units < 1:
        raise BabelirError(f"--step must divide 1 (0.1, 0.05, 0.25 …); got {step}")
    if math.comb(units + n - 1, n - 1) > MAX_GRID:
        raise BabelirError(f"--step {step} makes {math.comb(units + n - 1, n - 1):,} weight vectors for {n} modes "
                           f"(at most {MAX_GRID:,}); take a coarser step")
    return [tuple(c / units for c in combo) for combo in itertools.product(range(units + 1), repeat=n)
            if sum(combo) == units]


@dataclass
class LanguageWeights:
    """The outcome for one language; ``tuned`` is False when no query fell in its dev split (it then
    keeps equal weights)."""

    lang: str
    weights: tuple[float, ...]
    dev_queries: int
    held_out_queries: int
    dev_tuned: float
    dev_equal: float
    held_out_tuned: float | None
    held_out_equal: float | None
    tuned: bool = True


def tune_weights(runs: Sequence[Run], queries: Sequence[Query], qrels: Sequence[Qrel], fusion: str = "linear",
                 measure: str = "nDCG@10", dev_fraction: float = 0.5, step: float = 0.1,
                 fuse=None, among: Mapping[str, int] | tuple[str, ...] | None = None) -> list[LanguageWeights]:
    """Per language: the grid weights that fuse ``runs`` best on the dev split, and how they do
    on the held-out split against equal weights. ``fuse(runs, weights) -> Run``: the fusion the
    weights are for (default: plain ``fusion``; ``babelir tune`` passes hybrid search's own,
    language-aware one, so that the weights are chosen for the ranking search will make).
    ``among``: the index's languages, among which a query without a language is detected; give
    their document counts (``held_counts``) to detect as search does
    (:func:`babelir.retrieve.language_gate.analysis_language`: the counts are a prior)."""
    from babelir.evaluate.metrics import per_query_values
    from babelir.fuse import linear, zscore

    if fusion not in ("linear", "zscore"):
        raise BabelirError(f"tuning applies to linear or zscore fusion, not {fusion!r}")
    if not 0 < dev_fraction < 1:
        raise BabelirError(f"--dev-fraction must be above 0 and below 1; got {dev_fraction}")
    fuse = fuse or (linear if fusion == "linear" else zscore)
    from babelir.text.langid import detect

    judged = {q.query_id for q in qrels}
    by_lang: dict[str, list[str]] = {}
    for query in queries:
        if query.id in judged:
            by_lang.setdefault(query.lang or detect(query.text, among=among) or "und", []).append(query.id)
    if not by_lang:
        raise BabelirError("no query of the topics has relevance judgments")
    grid = weight_grid(len(runs), step)
    equal = tuple(1 / len(runs) for _ in runs)
    values = {w: per_query_values(fuse(runs, list(w)), qrels, [measure])[measure] for w in grid + [equal]}

    def mean(weights, ids):
        return sum(values[weights].get(i, 0.0) for i in ids) / len(ids) if ids else None

    outcome = []
    for lang, ids in sorted(by_lang.items()):
        dev = [i for i in ids if is_dev(i, dev_fraction)]
        held_out = [i for i in ids if not is_dev(i, dev_fraction)]
        if not dev:  # nothing to choose on: equal weights, said in the report
            outcome.append(LanguageWeights(lang, equal, 0, len(held_out), None, None, mean(equal, held_out),
                                           mean(equal, held_out), tuned=False))
            continue
        # ties: equal weights, then the most even grid weights
        best = max([equal, *grid], key=lambda w: (mean(w, dev), w == equal, -max(w)))
        outcome.append(LanguageWeights(lang, best, len(dev), len(held_out), mean(best, dev), mean(equal, dev),
                                       mean(best, held_out), mean(equal, held_out)))
    return outcome


def shorthand_spec(modes: Sequence[str], fusion: str = "zscore", depth: int = 100) -> str:
    """The pipeline spec ``babelir tune --hybrid-of MODES --fusion F --depth D`` stands for:
    ``hybrid(bm25,dense,fusion=zscore)`` (``depth=`` written only when it is not 100)."""
    from babelir.retrieve.stage import call

    return call("hybrid", *modes, fusion=fusion, depth=None if depth == 100 else depth)


def fusion_stage(stage):
    """The fusion stage of a parsed pipeline that tuning is for: the pipeline itself when it is a
    fusion (``hybrid(…)``), else the first stage of its ``>>`` chain (later stages, such as
    ``>> group`` or ``>> rerank(…)``, are not part of what is tuned). Raises :class:`BabelirError`
    when the pipeline does not open with a fusion, fuses by rrf, or already gives weights."""
    from babelir.retrieve.stage import Fuse, Then

    first = stage.stages()[0] if isinstance(stage, Then) else stage
    if not isinstance(first, Fuse):
        raise BabelirError(f"--pipeline {stage.describe()}: tune picks the weights of a fusion that opens "
                           f"the pipeline (hybrid(bm25,dense,…)); this one opens with {first.describe()}")
    if first.fusion not in ("linear", "zscore"):
        raise BabelirError(f"--pipeline {stage.describe()}: tuning applies to linear or zscore fusion, "
                           f"not {first.fusion!r}")
    if first.weights is not None:
        raise BabelirError(f"--pipeline {stage.describe()}: the fusion already has weights; tune picks them "
                           "(drop weights=…)")
    return first


def fusion_runs(fuse, queries: Sequence[Query]):
    """``(runs, fuse_fn)`` for a fusion stage (:class:`babelir.retrieve.stage.Fuse`): each of its
    stages' runs for ``queries`` (``depth`` documents per query, as the stage retrieves them), and
    ``fuse_fn(runs, weights) -> Run``, the fusion exactly as the stage makes it in search
    (:class:`babelir.retrieve.hybrid.HybridRetriever`: language-aware scopes, calibrated dense), so
    that the weights are chosen for the ranking search will make."""
    from babelir.fuse import WITHIN
    from babelir.retrieve.hybrid import SCOPED, fusion_function
    from babelir.retrieve.language_gate import dense_calibrated, fuse_runs, query_languages, run_scopes

    hybrid, index = fuse._hybrid, fuse.index
    queries = list(queries)
    runs = [stage.retrieve(queries, hybrid.depth) for stage in fuse.stages]
    langs, where = {}, []
    if hybrid.language_aware:
        langs = {q.id: query_languages(q) for q in queries}
        calibrated = "dense" in hybrid.modes and dense_calibrated(index, hybrid.debias, hybrid.standardise)
        where = [run_scopes([m], calibrated)[0] if m in SCOPED else WITHIN for m in hybrid.modes]
    plain = fusion_function(fuse.fusion)
    return runs, lambda runs, weights: fuse_runs(index, runs, where, plain, weights, langs, hybrid.language_aware)


def tune_pipeline(index, spec: str, queries: Sequence[Query], qrels: Sequence[Qrel], measure: str = "nDCG@10",
                  dev_fraction: float = 0.5, step: float = 0.1):
    """Per-language weights for the fusion stage of the pipeline ``spec`` over ``index`` (an open
    :class:`babelir.index.core.Index`), by :func:`tune_weights` on the fusion as search makes it.
    Returns ``(modes, fusion, outcome)``: the names of the fused stages (``bm25``, ``dense`` …, the
    key the weights are stored under), the fusion (``zscore`` | ``linear``) and one
    :class:`LanguageWeights` per language. Raises :class:`BabelirError` for a bad spec or step, a
    pipeline without a fusion to tune (:func:`fusion_stage`), or topics without judgments."""
    from babelir.retrieve.language_gate import held_counts
    from babelir.retrieve.pipeline import parse_pipeline

    pipeline = parse_pipeline(spec, index)
    try:
        fuse = fusion_stage(pipeline)
        modes = tuple(fuse._hybrid.modes)
        weight_grid(len(modes), step)  # a bad step fails before the runs are made
        runs, fuse_fn = fusion_runs(fuse, queries)
        outcome = tune_weights(runs, queries, qrels, fuse.fusion, measure, dev_fraction, step, fuse=fuse_fn,
                               among=held_counts(index) or None)
    finally:
        pipeline.close()
    return modes, fuse.fusion, outcome
