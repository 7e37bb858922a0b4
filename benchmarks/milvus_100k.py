"""Latency at 100k passages, local backend against milvus-lite, per mode (issue 21).

    python -m benchmarks.milvus_100k [--passages 100000] [--queries 200] [--data ../shared/data/xquad-r]

The passages are those of ``benchmarks.speed_500k`` (three random XQuAD-R sentences of one
language, seeded), the queries XQuAD-R questions of all 11 languages. BM25 is over the passages'
own terms (k1 1.5, b 0.75, what milvus-lite scores with). Encoding 100k passages with
multilingual-e5-small takes ~45 min on 2 cores, so the vectors are built from the sentences'
(cached) encodings: a passage's dense vector is the normalised mean of its three sentences'
vectors, and its learned sparse vector their sum, cut to the top 256 weights. They are real mE5
vectors of the same kind, not the passage's own encoding: latency is what this measures, not
effectiveness. Queries are encoded for real (cached). The index is mirrored into milvus-lite and
every query runs one at a time, k 10, in each mode from the same index, ``--backend local`` and
through Milvus; p50 and p99 in milliseconds, query encoding included.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from benchmarks.milvus_xquadr import MODES, mirror_into, one_at_a_time
from benchmarks import XQUADR


def passages(data: Path, count: int, seed: int = 13):
    """``count`` passages (Doc) and, for each, the texts of its three sentences."""
    from babelir.io.xquadr import XQUADR_LANGS, load_language
    from babelir.types import Doc

    rng = random.Random(seed)
    sentences = {lang: [d.text for d in load_language(data, lang)[0].docs] for lang in XQUADR_LANGS}
    langs = list(XQUADR_LANGS)
    docs, parts = [], []
    for i in range(count):
        lang = langs[i % len(langs)]
        chosen = [rng.choice(sentences[lang]) for _ in range(3)]
        docs.append(Doc(f"p{i}", " ".join(chosen), lang=lang))
        parts.append(chosen)
    return docs, parts


def combined_vectors(encoder, parts: list[list[str]]):
    """Each passage's dense vector (normalised mean of its sentences') and sparse vector (their sum, top 256)."""
    import numpy as np

    unique = sorted({s for p in parts for s in p})
    where = {s: i for i, s in enumerate(unique)}
    dense = encoder.encode_passages(unique)
    sparse = encoder.encode_sparse(unique)
    rows = np.array([[where[s] for s in p] for p in parts])
    vectors = dense[rows].mean(axis=1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    out = []
    for p in rows:
        weights: dict[int, float] = {}
        for r in p:
            for i, v in zip(*sparse[r]):
                weights[int(i)] = weights.get(int(i), 0.0) + float(v)
        top = sorted(weights.items(), key=lambda kv: -kv[1])[:256]
        out.append((np.array([i for i, _ in top], dtype=np.int32), np.array([v for _, v in top], dtype=np.float32)))
    return vectors.astype(np.float32), out


def main(argv=None) -> None:
    import numpy as np

    from babelir.encode.base import get_encoder
    from babelir.evaluate.table import format_table
    from babelir.index.core import Index
    from babelir.index.milvus import LITE_BM25, parse_backend
    from babelir.io.xquadr import XQUADR_LANGS, load_language
    from babelir.retrieve.pipeline import from_mode

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    encoder = get_encoder()
    docs, parts = passages(Path(args.data), args.passages)
    rng = random.Random(7)
    queries = rng.sample([q for lang in XQUADR_LANGS for q in load_language(Path(args.data), lang)[0].queries],
                         args.queries)
    latency = {(m, b): [] for m in MODES for b in ("local", "milvus")}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        vectors, sparse = combined_vectors(encoder, parts)
        index = Index.create(Path(tmp) / "ix", encoder=encoder, sparse=True, params=LITE_BM25)
        for start in range(0, len(docs), 10_000):
            index.add(docs[start:start + 10_000], encoded=(vectors[start:start + 10_000], sparse[start:start + 10_000]))
        built = time.perf_counter() - started
        mirrored = mirror_into(index, parse_backend(f"milvus:{Path(tmp) / 'milvus.db'}"))
        print(f"{len(docs)} passages: indexed in {built:.0f} s, mirrored into milvus-lite in {mirrored:.0f} s", flush=True)
        for mode in MODES:
            for where in ("local", "milvus"):
                index.search_backend = "local" if where == "local" else None
                stage = from_mode(index, mode)
                stage.retrieve(queries[:3], k=10)  # warm: analyzers, vectors mapped, Milvus collection loaded
                latency[mode, where] = one_at_a_time(stage, queries)
            print(f"{mode}: done", flush=True)
        index.close()
    rows = []
    for mode in MODES:
        local, milvus = (np.percentile(latency[mode, w], [50, 99]) for w in ("local", "milvus"))
        rows.append([mode, f"{local[0]:.1f}", f"{local[1]:.1f}", f"{milvus[0]:.1f}", f"{milvus[1]:.1f}",
                     f"{milvus[0] / local[0]:.1f}"])
    print(f"\nlatency per query (ms) at {len(docs)} passages, one query at a time, k 10, {len(queries)} queries")
    print(format_table(["mode", "local p50", "local p99", "milvus p50", "milvus p99", "p50 milvus / local"], rows))


if __name__ == "__main__":
    main()
