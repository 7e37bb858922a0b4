"""Evaluate a Run against qrels with ir_measures, overall and per language.

Every query in the qrels counts: a query the run does not answer scores 0 (trec_eval ``-c``).
Per-query values come from ir_measures (pytrec_eval underneath); babelir only averages them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from babelir.errors import BabelirError
from babelir.run import Run
from babelir.types import Qrel, Query

DEFAULT_MEASURES = ("nDCG@10", "R@100", "RR@10", "AP")
_INT_MAX = 2**31 - 1  # the largest cutoff or relevance level pytrec_eval handles (a C int)


@dataclass
class Evaluation:
    """Results: ``all`` (measure -> mean), ``by_lang`` (lang -> measure -> mean), ``per_query``
    (measure -> query id -> value), ``counts`` (lang -> number of queries)."""

    measures: list[str]
    all: dict[str, float]
    by_lang: dict[str, dict[str, float]]
    per_query: dict[str, dict[str, float]]
    counts: dict[str, int]

    @property
    def query_count(self) -> int:
        """Number of evaluated queries (every query in the qrels)."""
        return len(next(iter(self.per_query.values()), {}))

    def to_json(self) -> dict:
        out = {"all": self.all, "queries": self.query_count}
        if self.by_lang:
            out["by_lang"] = self.by_lang
        return out


def parse_measures(names: Iterable[str]):
    """ir_measures measure objects for names such as ``nDCG@10`` or ``R@100``.

    Raises a BabelirError on an unknown measure, a cutoff below 1 or above 2**31-1, or a ``rel``
    level outside a C int (pytrec_eval's limits)."""
    import ir_measures

    parsed = []
    for name in names:
        try:
            measure = ir_measures.parse_measure(name)
        except (ValueError, NameError, SyntaxError, TypeError, AttributeError):
            raise BabelirError(f"unknown measure {name!r} (examples: nDCG@10, R@100, RR@10, AP, P@5)") from None
        params = measure.params if hasattr(measure, "params") else {}
        cutoff = params.get("cutoff")
        if cutoff is not None and cutoff < 1:  # trec_eval aborts the process on a cutoff below 1
            raise BabelirError(f"measure {name!r}: the cutoff must be 1 or more")
        # pytrec_eval keeps cutoffs and grades in C integers: beyond them it fails (KeyError, TypeError)
        if cutoff is not None and cutoff > _INT_MAX:
            raise BabelirError(f"measure {name!r}: cutoff too large (at most {_INT_MAX})")
        rel = params.get("rel")
        if isinstance(rel, int) and not -_INT_MAX - 1 <= rel <= _INT_MAX:
            raise BabelirError(f"measure {name!r}: rel out of range ({-_INT_MAX - 1} to {_INT_MAX})")
        parsed.append(measure)
    return parsed


def per_query_values(run: Run, qrels: Iterable[Qrel], measures: list[str]) -> dict[str, dict[str, float]]:
    """measure name -> {query id -> value} for every query in the qrels (0 when not in the run)."""
    import ir_measures

    qrels = list(qrels)
    parsed = parse_measures(measures)
    names = dict(zip(map(str, parsed), measures))
    values: dict[str, dict[str, float]] = {m: {} for m in measures}
    ir_qrels = [ir_measures.Qrel(q.query_id, q.doc_id, q.relevance) for q in qrels]
    # each document is scored by its place in the Run's ranking (ties broken by doc id descending, as
    # trec_eval does): every ir_measures provider then ranks as trec_eval, where some (RR@k, Judged@k)
    # would otherwise break exact ties by doc id ascending. trec_eval's measures use only the order.
    run = run if isinstance(run, Run) else Run(run)
    ir_run = [ir_measures.ScoredDoc(q, d, float(-rank)) for q in run for rank, (d, _) in enumerate(run.ranking(q))]
    for metric in ir_measures.iter_calc(parsed, ir_qrels, ir_run):
        values[names[str(metric.measure)]][metric.query_id] = float(metric.value)
    for q in {q.query_id for q in qrels}:
        for m in measures:
            values[m].setdefault(q, 0.0)
    return values


def query_languages(query_ids: Iterable[str], topics: Iterable[Query] | None = None) -> dict[str, str]:
    """Language of each query: the topics' ``lang`` where given, else the id's prefix before ``-``
    when it is a language code (``th-1234``), else ``und``."""
    from babelir.types import normalize_lang

    given = {q.id: q.lang for q in topics or [] if q.lang}
    out = {}
    for qid in query_ids:
        lang = given.get(qid)
        if lang is None and "-" in qid:
            prefix = qid.split("-", 1)[0]
            try:
                lang = normalize_lang(prefix) if prefix.isalpha() and len(prefix) in (2, 3) else None
            except BabelirError:
                lang = None
        out[qid] = lang or "und"
    return out


def evaluate(run: Run, qrels: Iterable[Qrel], measures: Iterable[str] = DEFAULT_MEASURES,
             langs: Mapping[str, str] | None = None) -> Evaluation:
    """Evaluate ``run``; with ``langs`` (query id -> language) also break results down by language."""
    measures = list(dict.fromkeys(measures))
    values = per_query_values(run, qrels, measures)
    query_ids = sorted(next(iter(values.values())).keys()) if values else []
    if not query_ids:
        raise BabelirError("the qrels judge no query")

    def mean(ids: list[str]) -> dict[str, float]:
        return {m: sum(values[m][q] for q in ids) / len(ids) for m in measures}

    by_lang, counts = {}, {}
    if langs is not None:
        groups: dict[str, list[str]] = {}
        for q in query_ids:
            groups.setdefault(langs.get(q, "und"), []).append(q)
        by_lang = {lang: mean(ids) for lang, ids in sorted(groups.items())}
        counts = {lang: len(ids) for lang, ids in sorted(groups.items())}
    return Evaluation(measures, mean(query_ids), by_lang, values, counts)
