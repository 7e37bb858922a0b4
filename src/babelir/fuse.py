"""Fusion of runs, pure functions: ``fuse(runs) -> Run``.

- :func:`rrf`: reciprocal rank fusion, score = sum over runs of 1 / (k + rank) (Cormack, Clarke
  & Buettcher, SIGIR 2009; k = 60).
- :func:`linear`: normalised linear interpolation, score = sum of weight * min-max normalised score
  per query (a document missing from a run adds 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from babelir.errors import BabelirError
from babelir.run import Run


def rrf(runs: Sequence[Run], k: int = 60, depth: int | None = None) -> Run:
    """Reciprocal rank fusion of ``runs`` (each cut at ``depth`` when given)."""
    fused: dict[str, dict[str, float]] = {}
    for run in runs:
        for qid in run:
            ranking = run.ranking(qid)[:depth] if depth else run.ranking(qid)
            scores = fused.setdefault(qid, {})
            for rank, (doc_id, _) in enumerate(ranking, start=1):
                scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return Run(fused, name="rrf")


def linear(runs: Sequence[Run], weights: Sequence[float] | None = None) -> Run:
    """Weighted sum of per-query min-max normalised scores (weights default to equal)."""
    weights = list(weights) if weights is not None else [1.0 / len(runs)] * len(runs)
    if len(weights) != len(runs):
        raise BabelirError(f"{len(runs)} runs but {len(weights)} weights")
    fused: dict[str, dict[str, float]] = {}
    for run, weight in zip(runs, weights):
        for qid in run:
            docs = run[qid]
            if not docs:
                continue
            low, high = min(docs.values()), max(docs.values())
            span = high - low
            scores = fused.setdefault(qid, {})
            for doc_id, score in docs.items():
                normalised = (score - low) / span if span > 0 else 1.0
                scores[doc_id] = scores.get(doc_id, 0.0) + weight * normalised
    return Run(fused, name="linear")
