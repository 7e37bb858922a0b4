"""Do two sets of qrels rank systems alike? Kendall's tau between the system rankings they give.

``compare_qrels(qrels_a, qrels_b, runs, measure)`` evaluates every run under both qrels with
:func:`babelir.evaluate.metrics.evaluate` (ir_measures; every query of a qrels counts, a query a
run does not answer scores 0) and correlates the two lists of system scores with
:func:`scipy.stats.kendalltau` (tau-b, which handles ties; its two-sided p-value, exact for small
samples without ties). This is how a new set of judgments is checked against another: Voorhees
(2000, "Variations in relevance judgments and the measurement of retrieval effectiveness", IP&M
36(5)) compared assessors' qrels this way, and Thomas et al. (2024) and Upadhyay et al. (2024,
UMBRELA) LLM-made qrels against people's; tau ≥ 0.9 is the usual reading of "equivalent rankings"
(Voorhees 2000). With the query ids carrying a language (``th-12``) the same is done per language.

A tau that is undefined (fewer than two systems, or one side scores every system the same) is
``None``, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError


@dataclass
class Correlation:
    """Systems' scores under qrels A and B, and Kendall's tau between them (``tau``/``p`` None when
    undefined); ``queries_a`` / ``queries_b``: how many queries each qrels judges (the scores are
    over the queries both judge: ``queries``)."""

    scores_a: dict[str, float]
    scores_b: dict[str, float]
    tau: float | None
    p: float | None
    queries_a: int = 0
    queries_b: int = 0
    queries: int = 0


@dataclass
class QrelsComparison:
    """``overall`` and ``by_lang`` (language -> :class:`Correlation`, empty when no query id names
    a language) for ``measure``; ``systems`` in the order given."""

    measure: str
    systems: list[str]
    overall: Correlation
    by_lang: dict[str, Correlation] = field(default_factory=dict)


def kendall(a: list[float], b: list[float]) -> tuple[float | None, float | None]:
    """scipy's Kendall tau-b and p-value of two paired score lists; (None, None) when undefined.

    >>> kendall([0.1, 0.2, 0.3], [0.3, 0.2, 0.1])
    (-1.0, 0.333...)
    """
    from scipy.stats import kendalltau

    if len(a) < 2:
        return None, None
    result = kendalltau(a, b)
    tau, p = float(result.statistic), float(result.pvalue)
    return (None, None) if math.isnan(tau) else (tau, None if math.isnan(p) else p)


def compare_qrels(qrels_a, qrels_b, runs: dict, measure: str = "nDCG@10") -> QrelsComparison:
    """Compare the system rankings that ``qrels_a`` and ``qrels_b`` (lists of Qrel) give ``runs``
    (name -> Run, at least two). Raises a BabelirError for fewer than two runs, an unknown measure,
    or qrels that judge no query."""
    from babelir.evaluate.metrics import evaluate, parse_measures, query_languages

    if len(runs) < 2:
        raise BabelirError(f"comparing system rankings needs at least 2 runs, got {len(runs)}")
    parse_measures([measure])
    qrels_a, qrels_b = list(qrels_a), list(qrels_b)
    for label, qrels in (("A", qrels_a), ("B", qrels_b)):
        if not qrels:
            raise BabelirError(f"qrels {label} judge nothing")
    judged_a, judged_b = {q.query_id for q in qrels_a}, {q.query_id for q in qrels_b}
    ids = judged_a & judged_b  # rankings are compared over the same topics: those both qrels judge
    if not ids:
        raise BabelirError(f"qrels A ({len(judged_a)} queries) and B ({len(judged_b)} queries) judge no query "
                           "in common: nothing to compare")
    qrels_a = [q for q in qrels_a if q.query_id in ids]
    qrels_b = [q for q in qrels_b if q.query_id in ids]
    langs = query_languages(sorted(ids))
    by_id = any(lang != "und" for lang in langs.values())
    results = {}
    for label, qrels in (("a", qrels_a), ("b", qrels_b)):
        results[label] = {name: evaluate(run, qrels, [measure], langs if by_id else None) for name, run in runs.items()}
    systems = list(runs)

    def correlation(pick, count) -> Correlation:
        a = {s: pick(results["a"][s]) for s in systems}
        b = {s: pick(results["b"][s]) for s in systems}
        tau, p = kendall([a[s] for s in systems], [b[s] for s in systems])
        shared = count(results["a"][systems[0]])
        return Correlation(a, b, tau, p, shared, shared, shared)

    overall = correlation(lambda e: e.all[measure], lambda e: e.query_count)
    overall.queries_a, overall.queries_b = len(judged_a), len(judged_b)
    by_lang = {}
    if by_id:
        shared = sorted(set(results["a"][systems[0]].by_lang) & set(results["b"][systems[0]].by_lang))
        for lang in shared:
            by_lang[lang] = correlation(lambda e, lang=lang: e.by_lang[lang][measure],
                                        lambda e, lang=lang: e.counts[lang])
    return QrelsComparison(measure, systems, overall, by_lang)


def run_names(paths: list[str | Path]) -> list[str]:
    """A short name per run file: its file name without the extension, the path where two clash."""
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths)]


def format_comparison(result: QrelsComparison, label_a: str = "A", label_b: str = "B") -> str:
    """The systems' scores under each qrels (with their ranks), tau and p; then one line per language."""
    def num(x: float | None, digits: int = 3) -> str:
        return "n/a" if x is None else f"{x:.{digits}f}"

    def ranks(scores: dict[str, float]) -> dict[str, int]:  # equal scores share a rank (1, 2, 2, 4)
        return {s: 1 + sum(other > scores[s] for other in scores.values()) for s in scores}

    o = result.overall
    ra, rb = ranks(o.scores_a), ranks(o.scores_b)
    width = max(len("system"), *(len(s) for s in result.systems))
    head_a, head_b = f"{result.measure} A", f"{result.measure} B"
    def queries(n: int) -> str:
        return f"{n} query" if n == 1 else f"{n} queries"

    lines = [f"A = {label_a} ({queries(o.queries_a)})", f"B = {label_b} ({queries(o.queries_b)})",
             f"scores over the {queries(o.queries)} both judge", "",
             f"{'system':<{width}}  {head_a:>{len(head_a)}}  rank A  {head_b:>{len(head_b)}}  rank B"]
    for s in sorted(result.systems, key=lambda s: (ra[s], s)):
        lines.append(f"{s:<{width}}  {o.scores_a[s]:>{len(head_a)}.4f}  {ra[s]:>6}  {o.scores_b[s]:>{len(head_b)}.4f}  "
                     f"{rb[s]:>6}")
    lines += ["", f"Kendall tau (scipy tau-b) = {num(o.tau)}, p = {num(o.p, 4)}, {len(result.systems)} systems"]
    if result.by_lang:
        lines += ["", "lang  queries     tau       p"]
        for lang, c in result.by_lang.items():
            lines.append(f"{lang:<4}  {c.queries:>7}  {num(c.tau):>6}  {num(c.p, 4):>6}")
    return "\n".join(lines)
