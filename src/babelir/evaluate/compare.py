"""Paired significance tests between two runs, per measure and per language.

For each measure and each language (and all queries): a paired t-test (``scipy.stats.ttest_rel``)
and a paired randomization test (``scipy.stats.permutation_test``, sign flips of the per-query
differences; Smucker, Allan & Carterette, CIKM 2007). The per-language p-values of one measure are
Holm-corrected (Holm, 1979) for the number of languages tested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from babelir.evaluate.metrics import per_query_values
from babelir.run import Run
from babelir.types import Qrel


@dataclass
class Comparison:
    """One row: measure, group (``all`` or a language), queries, means of A and B, p-values."""

    measure: str
    group: str
    queries: int
    mean_a: float
    mean_b: float
    p_ttest: float
    p_randomization: float
    p_ttest_holm: float | None = None
    p_randomization_holm: float | None = None

    def to_json(self) -> dict:
        return dict(self.__dict__)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order (step-down, monotone, capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _tests(a: list[float], b: list[float], resamples: int, seed: int) -> tuple[float, float]:
    import numpy as np
    from scipy import stats

    x, y = np.asarray(a), np.asarray(b)
    if len(x) < 2 or np.allclose(x, y):
        return 1.0, 1.0
    p_t = float(stats.ttest_rel(x, y).pvalue)
    result = stats.permutation_test((x, y), lambda u, v, axis: np.mean(u - v, axis=axis),
                                    permutation_type="samples", n_resamples=resamples,
                                    alternative="two-sided", random_state=seed, vectorized=True)
    return (1.0 if p_t != p_t else p_t), float(result.pvalue)


def compare_runs(run_a: Run, run_b: Run, qrels: Iterable[Qrel], measures: list[str],
                 langs: Mapping[str, str] | None = None, resamples: int = 10_000, seed: int = 42) -> list[Comparison]:
    """Compare two runs on the qrels' queries: one row for all queries, then one per language."""
    qrels = list(qrels)
    values_a = per_query_values(run_a, qrels, measures)
    values_b = per_query_values(run_b, qrels, measures)
    query_ids = sorted(next(iter(values_a.values())))
    groups: dict[str, list[str]] = {}
    for q in query_ids:
        groups.setdefault((langs or {}).get(q, "und"), []).append(q)
    rows = []
    for m in measures:
        def row(group: str, ids: list[str]) -> Comparison:
            a = [values_a[m][q] for q in ids]
            b = [values_b[m][q] for q in ids]
            p_t, p_r = _tests(a, b, resamples, seed)
            return Comparison(m, group, len(ids), sum(a) / len(a), sum(b) / len(b), p_t, p_r)

        rows.append(row("all", query_ids))
        if langs is not None:
            per_lang = [row(lang, ids) for lang, ids in sorted(groups.items())]
            for p_name in ("p_ttest", "p_randomization"):
                for r, adj in zip(per_lang, holm([getattr(r, p_name) for r in per_lang])):
                    setattr(r, p_name + "_holm", adj)
            rows.extend(per_lang)
    return rows
