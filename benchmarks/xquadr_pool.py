"""Cross-lingual retrieval from the XQuAD-R multilingual pool (13,014 sentences in 11 languages,
13,090 questions, 11 relevant sentences each), dense, with and without the language-bias correction.

    python -m benchmarks.xquadr_pool [--depth 1000]

Prints LAReQA's measures: MAP over the top ``depth`` (ir_measures AP; relevant sentences beyond
``depth`` would add at most 11 / depth each), MAP@20, and the share of each question's top 10 in
its own language. Encodings come from the local cache after a first run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.crosslingual import same_language_share
from babelir.evaluate.metrics import per_query_values
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import load_xquadr
from babelir.retrieve.dense import DenseRetriever


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared/data/xquad-r"))
    parser.add_argument("--depth", type=int, default=1000)
    args = parser.parse_args(argv)
    _, pool = load_xquadr(args.data)
    doc_langs = {d.id: d.lang for d in pool.docs}
    query_langs = {q.id: q.lang for q in pool.queries}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(Path(tmp) / "pool", encoder=get_encoder())
        index.add(pool.docs)
        for label, debias in (("dense, no correction", False), ("dense, language means removed (default)", None)):
            retriever = DenseRetriever(index, debias=debias)
            totals, shares, count = {"AP": 0.0, "AP@20": 0.0}, 0.0, 0
            for start in range(0, len(pool.queries), 1000):  # in slices: a deep run of 13k queries is large
                queries = pool.queries[start:start + 1000]
                run = retriever.retrieve(queries, k=args.depth)
                ids = {q.id for q in queries}
                values = per_query_values(run, [q for q in pool.qrels if q.query_id in ids], ["AP", "AP@20"])
                for measure in totals:
                    totals[measure] += sum(values[measure].values())
                shares += same_language_share(run, query_langs, doc_langs) * len(queries)
                count += len(queries)
            rows.append([label, f"{totals['AP'] / count:.4f}", f"{totals['AP@20'] / count:.4f}", f"{shares / count:.3f}"])
            print(f"{label} done", flush=True)
        index.close()
    print(format_table(["retrieval", f"MAP (top {args.depth})", "MAP@20", "same-language share of top 10"], rows))


if __name__ == "__main__":
    main()
