"""Recall of babelir's ANN search (FAISS HNSW) against its exact dense search, and their speed.

    python -m benchmarks.ann_recall [--queries 2000] [--copies 8]

Rows:
- the XQuAD-R multilingual pool (13,014 sentences, 11 languages; with the language-bias
  correction the graphs are one per language) and English alone (1,190 sentences, one graph),
  through ``Index.search_dense`` with and without ``exact``;
- a 100k+ stress row: the pool's vectors repeated ``--copies`` times, each copy jittered
  (Gaussian noise, sigma 0.01 per dimension, renormalised) so that no two are equal, in one graph,
  against exact numpy search.

recall@100 = |ANN top 100 ∩ exact top 100| / 100, averaged over the questions (a random sample of
``--queries``). Times are per query in a batch of all sampled queries, on this machine.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from babelir.encode.base import get_encoder
from babelir.evaluate.table import format_table
from babelir.index.ann import DEFAULTS, HNSW
from babelir.index.core import Index
from babelir.io.xquadr import load_language, load_xquadr
from benchmarks import XQUADR


def recall_at(ann: list[list], exact: list[list], k: int = 100) -> float:
    """Mean overlap of the two top-k lists of doc ids, over queries."""
    return float(np.mean([len({d for d, _ in a[:k]} & {d for d, _ in e[:k]}) / min(k, max(len(e), 1))
                          for a, e in zip(ann, exact)]))


def through_index(tmp: Path, name: str, docs, queries, k: int) -> list:
    encoder = get_encoder()
    index = Index.create(tmp / name, encoder=encoder)
    index.add(docs)
    started = time.perf_counter()
    record = index.build_ann()
    build = time.perf_counter() - started
    vectors = encoder.encode_queries([q.text for q in queries])
    langs = [q.lang for q in queries]
    started = time.perf_counter()
    exact = index.search_dense(vectors, k, query_langs=langs, exact=True)
    exact_s = time.perf_counter() - started
    started = time.perf_counter()
    ann = index.search_dense(vectors, k, query_langs=langs)
    ann_s = time.perf_counter() - started
    index.close()
    graphs = f"{len(record['groups'])} ({'per language' if record['corrected'] else 'one'})"
    return [name, f"{len(docs):,}", graphs, f"{recall_at(ann, exact, k):.4f}", f"{build:.1f}",
            f"{1000 * exact_s / len(queries):.2f}", f"{1000 * ann_s / len(queries):.2f}"]


def stress(pool_docs, queries, copies: int, k: int) -> list:
    encoder = get_encoder()
    base = encoder.encode_passages([d.text for d in pool_docs]).astype(np.float32)
    rng = np.random.default_rng(7)
    vectors = np.concatenate([base + 0.01 * rng.standard_normal(base.shape, dtype=np.float32) for _ in range(copies)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    q = encoder.encode_queries([x.text for x in queries]).astype(np.float32)
    started = time.perf_counter()
    graph = HNSW.build(vectors, np.arange(len(vectors)))
    build = time.perf_counter() - started
    started = time.perf_counter()
    scores = q @ vectors.T
    exact_rows = np.argsort(-scores, axis=1)[:, :k]
    exact_s = time.perf_counter() - started
    started = time.perf_counter()
    _, ann_rows = graph.search(q, k)
    ann_s = time.perf_counter() - started
    recall = float(np.mean([len(set(a) & set(e)) / k for a, e in zip(ann_rows.tolist(), exact_rows.tolist())]))
    return [f"pool x{copies}, jittered (numpy exact)", f"{len(vectors):,}", "1 (one)", f"{recall:.4f}", f"{build:.1f}",
            f"{1000 * exact_s / len(queries):.2f}", f"{1000 * ann_s / len(queries):.2f}"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=8)
    args = parser.parse_args(argv)
    _, pool = load_xquadr(args.data)
    sample = random.Random(3).sample(pool.queries, min(args.queries, len(pool.queries)))
    english, _ = load_language(args.data, "en")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(through_index(Path(tmp), "xquad-r pool (corrected)", pool.docs, sample, 100))
        rows.append(through_index(Path(tmp), "xquad-r en", english.docs, english.queries, 100))
    rows.append(stress(pool.docs, sample, args.copies, 100))
    print(f"HNSW: M {DEFAULTS['M']}, efConstruction {DEFAULTS['ef_construction']}, efSearch {DEFAULTS['ef_search']}")
    print(format_table(["collection", "vectors", "graphs", "recall@100", "build s", "exact ms/q", "ANN ms/q"], rows))


if __name__ == "__main__":
    main()
