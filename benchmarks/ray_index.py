"""Index build throughput: local against Ray with 1 and 2 workers, on XQuAD-R's pool sentences.

    python -m benchmarks.ray_index [--docs 13000] [--dense] [--configs local 1x1 2x1] [--batch-size 1000]
                                   [--gpus 0] [--data ../shared/data/xquad-r]

The corpus: the multilingual pool of XQuAD-R (11 languages, 13,090 sentences, each with its
language), taken round-robin over the languages when ``--docs`` is smaller. Each configuration
builds a fresh index of it: ``local`` (``build_index`` in this process) and ``WxC`` (``--ray`` with W
actors of C CPUs each, on a Ray instance started here with all this machine's CPUs; the actors'
start-up is inside the timing, Ray's own start-up is not). ``--dense`` adds e5-small vectors, with
the encoding cache off on both sides so that every vector is computed. Prints documents per second
and the ratio to the local build, and checks every build holds the same documents and terms.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks import XQUADR


def pool_docs(data: str, count: int | None):
    from babelir.io.xquadr import XQUADR_LANGS, load_language

    per_lang = [load_language(data, lang)[0].docs for lang in XQUADR_LANGS]
    docs = [d for row in _round_robin(per_lang) for d in row]
    return docs[:count] if count else docs


def _round_robin(lists):
    for i in range(max(len(x) for x in lists)):
        yield [x[i] for x in lists if i < len(x)]


def fingerprint(directory) -> tuple[int, int]:
    """(documents, an order-free hash of every document's id with its terms and their counts, read
    from the postings segments BM25 searches): equal builds match."""
    import numpy as np

    from babelir.index.core import Index

    with Index.open(directory) as index:
        terms: dict[str, list[tuple[bytes, int]]] = {}
        for segment in index.lexical().segments:
            ids = [i.decode() for i in segment.ids()]
            offsets, docs, tfs = (np.asarray(a) for a in (segment.offsets, segment.docs, segment.tfs))
            for t, term in enumerate(segment.terms()):
                for row, tf in zip(docs[offsets[t]:offsets[t + 1]].tolist(), tfs[offsets[t]:offsets[t + 1]].tolist()):
                    terms.setdefault(ids[row], []).append((term, tf))
        total = sum(hash((doc_id, frozenset(found))) for doc_id, found in terms.items()) % (1 << 61)
        return index.doc_count, total


def main(argv=None) -> None:
    import ray

    from babelir.encode.base import get_encoder
    from babelir.index.build import build_index
    from babelir.index.ray_build import RayOptions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--docs", type=int, default=None, help="documents (default: the whole pool)")
    parser.add_argument("--dense", action="store_true", help="also encode dense vectors (e5-small, cache off)")
    parser.add_argument("--configs", nargs="+", default=["local", "1x1", "2x1"],
                        help="local, or WxC: W Ray workers of C CPUs each")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--gpus", type=float, default=0.0, help="GPUs per Ray worker")
    args = parser.parse_args(argv)

    docs = pool_docs(args.data, args.docs)
    langs = len({d.lang for d in docs})
    started = time.perf_counter()
    ray.init(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    ray_start = time.perf_counter() - started
    cpus = ray.cluster_resources().get("CPU", 0)
    encoder = get_encoder("e5-small", cache=False) if args.dense else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        with corpus.open("w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps({"id": d.id, "text": d.text, "lang": d.lang}, ensure_ascii=False) + "\n")
        for config in args.configs:
            options = None
            if config != "local":
                workers, _, per = config.partition("x")
                options = RayOptions(workers=int(workers), cpus=float(per or 1), gpus=args.gpus,
                                     encoder_cache=False)
            out = Path(tmp) / config
            t = time.perf_counter()
            build_index(corpus, out, batch_size=args.batch_size, encoder=encoder, dense=args.dense,
                        quiet=True, ray=options)
            seconds = time.perf_counter() - t
            rows.append((config, seconds, len(docs) / seconds, fingerprint(out)))
    ray.shutdown()

    print(f"{len(docs)} XQuAD-R pool sentences in {langs} languages; BM25{' + dense (e5-small)' if args.dense else ''}; "
          f"batches of {args.batch_size}; {os.cpu_count()} cores, Ray with {cpus:g} CPUs (start-up {ray_start:.1f}s, "
          f"not counted); OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} locally")
    print(f"{'build':<22} {'seconds':>8} {'docs/s':>8} {'x local':>8}")
    base = next((r[2] for r in rows if r[0] == "local"), None)
    for config, seconds, rate, _ in rows:
        name = "local" if config == "local" else f"ray, {config.replace('x', ' worker(s) x ')} CPU"
        print(f"{name:<22} {seconds:8.1f} {rate:8.0f} {rate / base if base else float('nan'):8.2f}")
    same = len({r[3] for r in rows}) == 1
    print("every build holds the same documents and terms" if same else "BUILDS DIFFER: " + str([r[3] for r in rows]))


if __name__ == "__main__":
    main()
