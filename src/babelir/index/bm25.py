"""BM25 scoring, as Lucene computes it (without the constant (k1 + 1) factor).

    idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
    w(t, d)  = idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avglen))
    score(d) = sum over query terms t (with their query frequency) of w(t, d)

Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond" (2009); defaults
k1 = 0.9, b = 0.4 as in Anserini/Pyserini (Trotman et al., 2014).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from babelir.errors import BabelirError


@dataclass(frozen=True)
class BM25Params:
    """BM25's term-frequency saturation ``k1`` (>= 0) and length normalisation ``b`` (0..1)."""

    k1: float = 0.9
    b: float = 0.4

    def __post_init__(self):
        if not (self.k1 >= 0 and math.isfinite(self.k1)):
            raise BabelirError(f"BM25 k1 must be a finite number >= 0, got {self.k1}")
        if not 0 <= self.b <= 1:
            raise BabelirError(f"BM25 b must be between 0 and 1, got {self.b}")


def idf(doc_count: int, doc_freq: int) -> float:
    """Lucene's BM25 idf; always positive."""
    return math.log(1.0 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5))


def score_candidates(query_terms: dict[str, int], candidates: list[tuple[int, dict[str, int]]],
                     doc_count: int, avg_length: float, params: BM25Params) -> list[float]:
    """BM25 scores of ``candidates`` for a query.

    ``query_terms`` maps each distinct query term to its count in the query; ``candidates`` is
    every committed document that holds at least one query term, as (length, term counts). The
    document frequencies are counted over the candidates, which is exact because every document
    holding a term is among them.
    """
    doc_freq = dict.fromkeys(query_terms, 0)
    for _, counts in candidates:
        for term in query_terms:
            if term in counts:
                doc_freq[term] += 1
    weights = {t: qtf * idf(doc_count, doc_freq[t]) for t, qtf in query_terms.items() if doc_freq[t]}
    k1, b = params.k1, params.b
    norm_a, norm_b = k1 * (1.0 - b), k1 * b / (avg_length or 1.0)
    scores = []
    for length, counts in candidates:
        norm = norm_a + norm_b * length
        total = 0.0
        for term, weight in weights.items():
            tf = counts.get(term)
            if tf:
                total += weight * tf / (tf + norm)
        scores.append(total)
    return scores
