"""Features of a query's score lists, the input of the abstention model.

A search gives, per query, the final run's ranked scores and, inside it, each first stage's
(:func:`babelir.retrieve.stage.tapping`: bm25's, dense's … before fusion). Each list gives the same
few numbers over its top ``k`` (default 10), the signals query-performance prediction uses for
score-based predictors (Cronen-Townsend et al., 2002; Shtok et al., 2012, "Predicting query
performance by query-drift estimation", NQC is the standard deviation of the top scores):

- ``top``: the best score;
- ``gap``: best minus second best;
- ``drop``: best minus the k-th;
- ``z``: the best score standardised over the top k (how far it stands out);
- ``spread``: the standard deviation of the top k (NQC's numerator);
- ``found``: how many documents the list has, over k (a lexical list can be short or empty).

A missing list (no document matched) gives zeros and ``found`` 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

FEATURES = ("top", "gap", "drop", "z", "spread", "found")


def list_features(scores: Sequence[float], k: int) -> list[float]:
    """The :data:`FEATURES` of one ranked score list (best first; only its first ``k`` count).

    Input: scores, a sequence of floats in descending order (any scale). Output: 6 floats."""
    top_k = np.asarray(list(scores)[:k], dtype=float)
    if top_k.size == 0:
        return [0.0] * len(FEATURES)
    best = float(top_k[0])
    second = float(top_k[1]) if top_k.size > 1 else best
    spread = float(top_k.std())
    z = (best - float(top_k.mean())) / spread if spread > 0 else 0.0
    return [best, best - second, best - float(top_k[-1]), z, spread, top_k.size / k]


def feature_names(signals: Sequence[str]) -> list[str]:
    """Names of the features of each signal's list: ``final:top``, ``bm25:gap``, …"""
    return [f"{signal}:{name}" for signal in signals for name in FEATURES]


def query_features(query_id: str, final: Mapping[str, Mapping[str, float]],
                   first_stages: Mapping[str, Mapping[str, Mapping[str, float]]],
                   signals: Sequence[str], k: int) -> list[float]:
    """One query's feature vector: for each of ``signals`` (``"final"`` or a first stage's spec),
    :func:`list_features` of its scores for ``query_id``. ``final``: the search's run (query id ->
    {doc id: score}); ``first_stages``: the tapped runs of its first stages. Output:
    ``len(signals) * 6`` floats."""
    vector: list[float] = []
    for signal in signals:
        run = final if signal == "final" else first_stages.get(signal, {})
        scores = sorted(run.get(query_id, {}).values(), reverse=True)
        vector.extend(list_features(scores, k))
    return vector


def signals_of(first_stages: Mapping[str, object]) -> list[str]:
    """The signals a search gives: ``final``, then its first stages by spec (sorted)."""
    return ["final"] + sorted(first_stages)
