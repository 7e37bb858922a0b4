"""Per-language fusion weights picked on a dev split of the queries (``babelir tune``).

Queries are split by a hash of their id (stable, no randomness): a ``dev_fraction`` of each
language's queries is the dev split, the rest is held out. For each language, every weight vector
on a grid of ``step`` (non-negative, summing to 1) is scored on the dev split; the best is kept and
then measured on the held-out split against equal weights, so the report says whether tuning
helped. The weights are stored in the index manifest (``fusion_weights``) and hybrid search uses
them for queries of that language when no ``--weights`` are given.
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
