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
