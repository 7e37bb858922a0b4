"""nDCG@10 and latency on XQuAD-R, local backend against milvus-lite, per language and mode.

    python -m benchmarks.milvus_xquadr [--langs en th zh] [--data ../shared/data/xquad-r] [--latency-queries 200]
                                       [--backend milvus://HOST:PORT]

Each language's collection (as ``babelir datasets xquad-r`` makes it) is indexed once with dense
and learned sparse vectors (encodings come from babelir's cache) and BM25 k1 1.5, b 0.75 (the
parameters milvus-lite scores with), mirrored into a milvus-lite file, and searched in each mode
twice from the same index: ``--backend local`` and through Milvus. Latency: one query at a time
(``--latency-queries`` of them), p50 / p99 in milliseconds, the query encoder included.
``--backend milvus://HOST:PORT`` mirrors into a Milvus server instead (e.g. milvus-lite's own,
``python -m milvus_lite server --data-dir DIR --port PORT``, which scores BM25 as milvus-lite does).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import XQUADR

MODES = ("bm25", "dense", "sparse", "hybrid")


def mirror_into(index, backend: dict) -> float:
    """Mirror ``index`` into the Milvus ``backend`` (:func:`babelir.index.milvus.parse_backend`)
    and record it in the manifest, so that searches go through Milvus; returns the seconds taken."""
    from babelir.index.milvus import mirror

    started = time.perf_counter()
    with index.writing():
        index.manifest["backend"] = mirror(index, backend)
        index._write_manifest()
    return time.perf_counter() - started


def one_at_a_time(stage, queries) -> list[float]:
    """Milliseconds of each query retrieved alone through ``stage`` (k 10)."""
    times = []
    for query in queries:
        began = time.perf_counter()
        stage.retrieve([query], k=10)
        times.append(1000 * (time.perf_counter() - began))
    return times


def main(argv=None) -> None:
    import numpy as np

    from babelir.encode.base import get_encoder
    from babelir.evaluate.metrics import evaluate
    from babelir.evaluate.table import format_table
    from babelir.index.core import Index
    from babelir.index.milvus import LITE_BM25, parse_backend
    from babelir.io.xquadr import XQUADR_LANGS, load_language
    from babelir.retrieve.pipeline import from_mode

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--backend", default=None, help="milvus://HOST:PORT (default: a milvus-lite file)")
    args = parser.parse_args(argv)
    encoder = get_encoder()
    rows, latency = [], {(m, b): [] for m in MODES for b in ("local", "milvus")}
    with tempfile.TemporaryDirectory() as tmp:
        backend = parse_backend(args.backend or f"milvus:{Path(tmp) / 'milvus.db'}")
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            index = Index.create(Path(tmp) / lang, encoder=encoder, sparse=True, params=LITE_BM25)
            docs = collection.docs
            for start in range(0, len(docs), 1000):
                index.add(docs[start:start + 1000])
            mirrored = mirror_into(index, backend)
            row = [lang, str(len(docs)), f"{mirrored:.1f}"]
            for mode in MODES:
                scores = {}
                for where in ("local", "milvus"):
                    index.search_backend = "local" if where == "local" else None
                    stage = from_mode(index, mode)
                    run = stage.retrieve(collection.queries, k=100)
                    scores[where] = evaluate(run, collection.qrels, ["nDCG@10"]).all["nDCG@10"]
                    latency[mode, where] += one_at_a_time(stage, collection.queries[:args.latency_queries])
                row += [f"{scores['local']:.4f}", f"{scores['milvus']:.4f}", f"{scores['milvus'] - scores['local']:+.4f}"]
            print(" ".join(row), flush=True)
            rows.append(row)
            index.close()
    header = ["lang", "docs", "mirror s"] + [f"{m} {w}" for m in MODES for w in ("local", "milvus", "diff")]
    print(f"\nnDCG@10, local backend against {'milvus-lite' if args.backend is None else backend['uri']} (same index)")
    print(format_table(header, rows))
    print("\nlatency per query (ms), one query at a time, k 10")
    lat = [[mode, where, f"{np.percentile(latency[mode, where], 50):.1f}", f"{np.percentile(latency[mode, where], 99):.1f}"]
           for mode in MODES for where in ("local", "milvus")]
    print(format_table(["mode", "backend", "p50", "p99"], lat))
    worst = max(abs(float(r[5 + 3 * i])) for r in rows for i in range(len(MODES)))
    print(f"\nlargest |nDCG@10 difference|: {worst:.4f} ({statistics.mean(int(r[1]) for r in rows):.0f} documents per language on average)")


if __name__ == "__main__":
    main()
