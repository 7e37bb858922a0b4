"""Fusion of runs, pure functions: ``fuse(runs) -> Run``.

- :func:`rrf`: reciprocal rank fusion, score = sum over runs of 1 / (k + rank) (Cormack, Clarke
  & Buettcher, SIGIR 2009; k = 60).
- :func:`linear`: normalised linear interpolation, score = sum of weight * min-max normalised score
  per query (a document missing from a run adds 0).
- :func:`zscore`: weighted sum of per-query z-scores (CombSUM over standardised scores; a document
  missing from a run gets that run's lowest z-score for the query).
- :func:`fuse_by_language`: any of the above where runs hold in different places (a query's words
  say nothing about documents in another language; learned sparse scores are not comparable across
  languages): each language's documents are ordered by the runs whose evidence holds there, and the
  languages are interleaved by the run calibrated across languages (dense, with its correction).
- :func:`group_evidence`: adds to each document the evidence of its group (the best score of the
  group's documents in the same ranking), for sentences or chunks cut from a larger unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from babelir.errors import BabelirError
from babelir.run import Descending, Run


def _standardise(values: dict) -> dict:
    """Per-query z-scores (population standard deviation; all 0 when the scores are equal)."""
    mean = sum(values.values()) / len(values)
    spread = (sum((v - mean) ** 2 for v in values.values()) / len(values)) ** 0.5
    return {key: (v - mean) / spread if spread > 0 else 0.0 for key, v in values.items()}


def _standardise_with_floor(values: dict) -> tuple[dict, float]:
    """z-scores of one run's documents for one query, and the value of a document it did not
    return (see :func:`zscore`)."""
    first = next(iter(values.values()))
    if first > 0 and all(v == first for v in values.values()):
        n = len(values)
        return {key: 1 / n ** 0.5 for key in values}, -(n ** 0.5)
    z = _standardise(values)
    return z, min(z.values())


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


def zscore(runs: Sequence[Run], weights: Sequence[float] | None = None) -> Run:
    """Weighted sum of per-query z-scores (mean 0, population standard deviation 1, over the
    documents each run returned); a document a run did not return gets its lowest z-score.

    A run whose documents all score alike and above 0 (one BM25 match, say) cannot be standardised
    over them alone; it is standardised together with one document it did not return, at score 0
    (what BM25 gives a document without a match): its n documents get 1/sqrt(n), the others
    -sqrt(n), so a lone match still counts. Weights default to 1/n each (the mean of the z-scores)."""
    weights = list(weights) if weights is not None else [1.0 / len(runs)] * len(runs)
    if len(weights) != len(runs):
        raise BabelirError(f"{len(runs)} runs but {len(weights)} weights")
    queries = dict.fromkeys(qid for run in runs for qid in run)  # in the runs' order, every time
    fused: dict[str, dict[str, float]] = {}
    for qid in queries:
        per_run = []
        for run, weight in zip(runs, weights):
            docs = run[qid] if qid in run else {}
            if not docs:
                continue
            per_run.append((*_standardise_with_floor(docs), weight))
        scores = fused.setdefault(qid, {})
        union = {d for z, _, _ in per_run for d in z}
        for z, floor, weight in per_run:
            for doc_id in union:
                scores[doc_id] = scores.get(doc_id, 0.0) + weight * z.get(doc_id, floor)
    return Run(fused, name="zscore")


LEXICAL, WITHIN, ACROSS = "lexical", "within", "across"  # where a run's evidence holds (fuse_by_language)


def fuse_by_language(runs: Sequence[Run], fuse: Callable[[Sequence[Run], Sequence[float] | None], Run],
                     scopes: Sequence[str], lexical_langs: Mapping[str, frozenset[str] | None],
                     doc_langs: Mapping[str, str], weights: Sequence[float] | None = None) -> Run:
    """Fusion of ``runs`` in which each run's evidence counts only where it holds.

    Input: ``runs`` (n runs); ``fuse(runs, weights) -> Run`` (:func:`linear`, :func:`zscore`, or
    :func:`rrf` wrapped); ``scopes`` (n values, where each run's evidence holds): ``LEXICAL`` for
    documents in a language where the query's terms can mean the same (``lexical_langs``: query id
    -> those document languages, None for all), ``WITHIN`` for documents of every language but with
    scores not comparable across languages, ``ACROSS`` everywhere and comparable across languages
    (dense search with its language correction); ``doc_langs`` (doc id -> language, for every
    document of the runs); ``weights`` (n, or None for the fusion's default).

    Output, per query: within each document language, the fusion of the runs that hold there orders
    that language's documents (a document only runs that do not hold there found is dropped). With
    one language among the candidates, those fused scores are the output (a monolingual search is the
    plain fusion of its runs). With several, the languages are interleaved by the ``ACROSS`` runs
    (all the non-lexical runs when none is ``ACROSS``; with equal weights when their given weights
    are all 0): each language's documents take, best first, the ``ACROSS`` fusion's scores of the
    same documents (one that those runs did not return counts
    at the query's lowest such score). This is the merge step of multilingual result merging
    (per-language retrieval, then one list; Savoy, CLEF 2003) on a scale already calibrated across
    languages, so fusion reorders documents inside a language and never moves one language's
    documents against another's."""
    scopes = list(scopes)
    if len(scopes) != len(runs) or not set(scopes) <= {LEXICAL, WITHIN, ACROSS}:
        raise BabelirError(f"{len(runs)} runs need as many scopes among {LEXICAL}, {WITHIN}, {ACROSS}; got {scopes}")

    def part(indexes: list[int]) -> Run:
        chosen = [weights[i] for i in indexes] if weights is not None else None
        return fuse([runs[i] for i in indexes], chosen if chosen and any(chosen) else None)  # all 0: equal

    if (LEXICAL not in scopes and ACROSS not in scopes) or scopes.count(ACROSS) == len(scopes):
        return fuse(runs, weights)  # every run holds everywhere alike: nothing to separate
    cross_lingual = [i for i, scope in enumerate(scopes) if scope != LEXICAL]
    interleaving = [i for i, scope in enumerate(scopes) if scope == ACROSS] or cross_lingual
    fused = {"all": fuse(runs, weights)}
    fused["cross"] = part(cross_lingual) if cross_lingual else Run({})
    fused["across"] = fused["cross"] if interleaving == cross_lingual else part(interleaving)
    out: dict[str, dict[str, float]] = {}
    for qid in fused["all"]:
        allowed = lexical_langs.get(qid)
        by_lang: dict[str, dict[str, float]] = {}
        for key in ("all", "cross"):
            scores = fused[key][qid] if qid in fused[key] else {}
            for doc_id, score in scores.items():
                lang = doc_langs.get(doc_id)
                if (key == "all") == (allowed is None or lang in allowed):
                    by_lang.setdefault(lang, {})[doc_id] = score
        if len(by_lang) <= 1:
            out[qid] = next(iter(by_lang.values()), {})
            continue
        slots = fused["across"][qid] if qid in fused["across"] else {}
        floor = min(slots.values()) if slots else 0.0
        result: dict[str, float] = {}
        for scores in by_lang.values():
            order = sorted(scores, key=lambda d: (-scores[d], Descending(d)))
            values = sorted((slots.get(d, floor) for d in order), reverse=True)
            result.update(zip(order, _strictly_decreasing(values)))
        out[qid] = result
    return Run(out, name=fused["all"].name)


def _strictly_decreasing(values: list[float], step: float = 1e-6) -> list[float]:
    """``values`` (sorted, descending) with ties pulled apart by ``step`` (so that the order given to
    them survives a TREC file's six decimals)."""
    out: list[float] = []
    for value in values:
        out.append(min(value, out[-1] - step) if out else value)
    return out


def group_evidence(run: Run, groups: Mapping[str, str], weight: float = 1.0, depth: int = 100) -> Run:
    """Each document's score plus ``weight`` times the evidence of its group, per query.

    Input: ``run``; ``groups`` maps a document id to its group (documents without one are groups
    of their own). Output: a run of the same documents (each query's top ``depth``) scored
    ``z(doc) + weight * z(group)``, where ``z(doc)`` is the document's z-score among the query's
    top ``depth`` and the group's score is the best ``z(doc)`` of its documents there,
    standardised over the groups present. A sentence next to the sentence that matches best
    rises; a lone good match is not buried. ``weight`` 0 returns the run cut at ``depth`` with
    its scores standardised (the same order)."""
    out: dict[str, dict[str, float]] = {}
    for qid in run:
        ranking = run.ranking(qid)[:depth]
        if not ranking:
            out[qid] = {}
            continue
        z = _standardise(dict(ranking))
        key = {doc_id: ("group", groups[doc_id]) if doc_id in groups else ("doc", doc_id) for doc_id in z}
        best: dict[tuple[str, str], float] = {}
        for doc_id, value in z.items():
            best[key[doc_id]] = max(best.get(key[doc_id], value), value)
        group_z = _standardise(best)
        out[qid] = {doc_id: value + weight * group_z[key[doc_id]] for doc_id, value in z.items()}
    return Run(out, name=run.name)
