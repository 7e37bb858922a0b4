"""Effectiveness of an encoder on a collection, end to end through a throw-away dense index.

- :func:`evaluate_dense`: one collection → one measure (default nDCG@10) of dense retrieval.
- :func:`pool_map`: a multilingual pool → MAP over each question's top ``depth`` sentences, with
  the index's default language-bias correction (on when the pool holds several languages).

Encodings go through the local encoding cache, so evaluating the per-language collections and
then their pool encodes each text once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

MEASURE = "nDCG@10"


def evaluate_dense(model_spec: str, collection, workdir: Path, measure: str = MEASURE) -> float:
    """``measure`` of dense retrieval with ``model_spec`` over ``collection`` (top 100 ranked)."""
    from babelir.encode.base import get_encoder
    from babelir.evaluate.metrics import evaluate
    from babelir.index.core import Index
    from babelir.retrieve.stage import Dense

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        index = Index.create(Path(tmp) / "index", encoder=get_encoder(model_spec))
        index.add(collection.docs)
        run = Dense(index).retrieve(collection.queries, k=100)
        index.close()
    return evaluate(run, collection.qrels, [measure]).all[measure]


def pool_map(model_spec: str, pool, workdir: Path, depth: int = 1000, slice_size: int = 500) -> float:
    """MAP (ir_measures AP over the top ``depth``) of dense retrieval over a multilingual ``pool``."""
    from babelir.encode.base import get_encoder
    from babelir.evaluate.metrics import per_query_values
    from babelir.index.core import Index
    from babelir.retrieve.dense import DenseRetriever

    total = 0.0
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        index = Index.create(Path(tmp) / "pool", encoder=get_encoder(model_spec))
        index.add(pool.docs)
        retriever = DenseRetriever(index)
        for start in range(0, len(pool.queries), slice_size):  # a deep run of every query at once is large
            queries = pool.queries[start:start + slice_size]
            ids = {q.id for q in queries}
            run = retriever.retrieve(queries, k=depth)
            values = per_query_values(run, [q for q in pool.qrels if q.query_id in ids], ["AP"])["AP"]
            total += sum(values.get(q.id, 0.0) for q in queries)
        index.close()
    return total / max(1, len(pool.queries))
