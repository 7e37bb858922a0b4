"""Cross-lingual XQuAD-R: X's questions against Y's sentences, and the multilingual pool; dense
against hybrid search, per task, on the train and test articles.

    python -m benchmarks.xquadr_cross [--pairs en:* *:en ar:zh …] [--pool] [--group-weight W]
                                      [--variants dense hybrid hybrid-blind rrf-blind] [--data DIR]

Each target language's sentences are indexed once (BM25 with the default analysis, dense and
learned sparse vectors of multilingual-e5-small; encodings are cached outside the repository) and
searched with every source language's questions (``babelir datasets xquad-r --cross X:Y`` writes
the same tasks). Variants:

- ``dense``: ``babelir search --mode dense`` (the default correction; paragraph evidence by default);
- ``hybrid``: ``babelir search --mode hybrid``, the default: bm25 + dense (+ sparse when indexed),
  z-score fusion, language-aware (BM25 counts only where the query's language matches);
- ``hybrid-blind``: the same fusion with BM25 counted over every document (``--lexical-everywhere``);
- ``rrf-blind``: the previous default, RRF of bm25 + dense over every document;
- ``hybrid-2``: the default without the sparse run (bm25 + dense).

nDCG@10 and P@1 (ir_measures) per task on the questions of the test articles (settings were chosen
on the train articles; ``--part train`` shows those). With ``--pool``: the 13,014-sentence pool of
all 11 languages, every question against it (MAP over the top 1000, nDCG@10, P@1; each question
has 11 relevant sentences).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import load_cross, load_xquadr, paragraph_articles, parse_pairs, query_parts
from babelir.retrieve.pipeline import from_mode
from benchmarks import XQUADR

DEFAULT_PAIRS = ["en:*", "*:en", "ar:zh", "zh:ar", "de:ru", "ru:de", "th:zh", "zh:th", "hi:el", "el:hi", "tr:vi",
                 "vi:tr", "es:de", "de:es", "ar:hi", "hi:ar", "ru:th", "th:ru", "el:tr", "es:zh", "vi:es", "tr:el"]
VARIANTS = {
    "dense": {"mode": "dense"},
    "hybrid": {"mode": "hybrid"},
    "hybrid-2": {"mode": "hybrid", "hybrid_of": ("bm25", "dense")},
    "hybrid-blind": {"mode": "hybrid", "language_aware": False},
    "rrf-blind": {"mode": "hybrid", "fusion": "rrf", "hybrid_of": ("bm25", "dense"), "language_aware": False},
}
MEASURES = ["nDCG@10", "P@1"]


def run_variant(index, name, queries, k, group_weight):
    options = dict(VARIANTS[name])
    mode = options.pop("mode")
    retriever = from_mode(index, mode, group_weight=group_weight, **options)
    return retriever.retrieve(queries, k=k)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--pairs", nargs="*", default=DEFAULT_PAIRS, help="X:Y specs as for --cross (default: "
                        "every language to and from English and 20 pairs without English)")
    parser.add_argument("--variants", nargs="+", default=["dense", "hybrid", "hybrid-blind", "rrf-blind"],
                        choices=list(VARIANTS))
    parser.add_argument("--part", default="test", choices=["test", "train", "all"])
    parser.add_argument("--group-weight", type=float, default=None, help="paragraph evidence (default: search's default)")
    parser.add_argument("--pool", action="store_true", help="also the multilingual pool (all 13,090 questions)")
    parser.add_argument("--no-tasks", action="store_true", help="only the pool")
    args = parser.parse_args(argv)
    encoder = get_encoder()
    titles = paragraph_articles(args.data, "en")
    results = {}  # (x, y) -> variant -> measure -> value
    with tempfile.TemporaryDirectory() as tmp:
        pairs = [] if args.no_tasks else parse_pairs(args.pairs)
        tasks = load_cross(args.data, pairs) if pairs else {}
        for target in sorted({y for _, y in pairs}):
            started = time.perf_counter()
            index = Index.create(Path(tmp) / target, encoder=encoder, sparse=True)
            index.add(tasks[next(p for p in pairs if p[1] == target)].docs)
            for (x, y), task in tasks.items():
                if y != target:
                    continue
                parts = query_parts(task, titles)
                qrels = [q for q in task.qrels if args.part == "all" or parts[q.query_id] == args.part]
                results[(x, y)] = {}
                for name in args.variants:
                    run = run_variant(index, name, task.queries, 100, args.group_weight)
                    results[(x, y)][name] = evaluate(run, qrels, MEASURES).all
                print(f"{x}->{y}: " + "  ".join(f"{n} {results[(x, y)][n]['nDCG@10']:.4f}/{results[(x, y)][n]['P@1']:.4f}"
                                                for n in args.variants), flush=True)
            index.close()
            print(f"  ({target} done in {time.perf_counter() - started:.0f}s)", flush=True)
        if results:
            print_tasks(results, args.variants, args.part)
        if args.pool:
            pool_table(args, encoder, titles, Path(tmp) / "pool")


def print_tasks(results, variants, part) -> None:
    rows = []
    for (x, y), values in results.items():
        rows.append([f"{x}->{y}", *(f"{values[v][m]:.4f}" for m in MEASURES for v in variants)])
    for label, keys in (("avg to en", [p for p in results if p[1] == "en"]), ("avg from en", [p for p in results if p[0] == "en"]),
                        ("avg without en", [p for p in results if "en" not in p]), ("avg all", list(results))):
        if keys:
            rows.append([label, *(f"{statistics.mean(results[p][v][m] for p in keys):.4f}" for m in MEASURES for v in variants)])
    print(f"\nquestions of the {part} articles")
    print(format_table(["task", *(f"{m} {v}" for m in MEASURES for v in variants)], rows))
    if "dense" in variants:
        for v in variants:
            if v == "dense":
                continue
            for m in MEASURES:
                margins = {p: results[p][v][m] - results[p]["dense"][m] for p in results}
                worst = min(margins, key=margins.get)
                below = sum(1 for value in margins.values() if value < -0.005)
                print(f"{v} - dense, {m}: smallest margin {margins[worst]:+.4f} ({worst[0]}->{worst[1]}); "
                      f"{below} of {len(margins)} tasks below -.005")


def pool_table(args, encoder, titles, directory) -> None:
    _, pool = load_xquadr(args.data)
    index = Index.create(directory, encoder=encoder, sparse=True)
    index.add(pool.docs)
    parts = query_parts(pool, titles)
    rows = []
    for name in args.variants:
        started = time.perf_counter()
        run = run_variant(index, name, pool.queries, 1000, args.group_weight)
        row = [name]
        for part in ("all", "test"):
            qrels = [q for q in pool.qrels if part == "all" or parts[q.query_id] == part]
            values = evaluate(run, qrels, ["AP", *MEASURES]).all
            row += [f"{values['AP']:.4f}", f"{values['nDCG@10']:.4f}", f"{values['P@1']:.4f}"]
        rows.append(row)
        print(f"pool {name} done in {time.perf_counter() - started:.0f}s", flush=True)
    index.close()
    print("\nmultilingual pool (13,014 sentences, 11 relevant per question), MAP over the top 1000")
    print(format_table(["variant", "MAP all", "nDCG@10 all", "P@1 all", "MAP test", "nDCG@10 test", "P@1 test"], rows))


if __name__ == "__main__":
    main()
