"""Cross-lingual retrieval from the XQuAD-R multilingual pool (13,014 sentences in 11 languages,
13,090 questions, 11 relevant sentences each), dense, with and without the language-bias correction.

    python -m benchmarks.xquadr_pool [--depth N]

Prints LAReQA's measures: full MAP (ir_measures AP over the whole ranking of the pool; each
ranking is cut after its last relevant sentence, which leaves AP unchanged), MAP@20, and the share
of each question's top 10 in its own language, for: no correction; language means removed; and
the default correction (means removed, then scores standardised per document language).
``--depth N`` ranks only the top N instead (MAP over the top N). Encodings come from the local
cache after a first run.
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
from babelir.run import Run
from benchmarks import XQUADR


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--depth", type=int, default=0, help="rank only the top N (default: the whole pool)")
    args = parser.parse_args(argv)
    _, pool = load_xquadr(args.data)
    doc_langs = {d.id: d.lang for d in pool.docs}
    query_langs = {q.id: q.lang for q in pool.queries}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.create(Path(tmp) / "pool", encoder=get_encoder())
        index.add(pool.docs)
        depth = args.depth or len(pool.docs)
        relevant = {}
        for qrel in pool.qrels:
            relevant.setdefault(qrel.query_id, set()).add(qrel.doc_id)
        conditions = (("dense, no correction", False, False),
                      ("dense, language means removed", True, False),
                      ("dense, means removed + scores standardised per language (default)", None, True))
        for label, debias, standardise in conditions:
            retriever = DenseRetriever(index, debias=debias, standardise=standardise)
            totals, shares, count = {"AP": 0.0, "AP@20": 0.0}, 0.0, 0
            for start in range(0, len(pool.queries), 250):  # in slices: a deep run of 13k queries is large
                queries = pool.queries[start:start + 250]
                run = retriever.retrieve(queries, k=min(depth, 1000))
                if depth > 1000:  # rank deeper only the questions with relevant sentences beyond 1000
                    deeper = [q for q in queries if not relevant.get(q.id, set()) <= run[q.id].keys()]
                    if deeper:
                        deep = retriever.retrieve(deeper, k=depth)
                        run = Run({**{q: run[q] for q in run}, **{q: deep[q] for q in deep}})
                run = _cut_after_last_relevant(run, relevant)
                ids = {q.id for q in queries}
                values = per_query_values(run, [q for q in pool.qrels if q.query_id in ids], ["AP", "AP@20"])
                for measure in totals:
                    totals[measure] += sum(values[measure].values())
                shares += same_language_share(run, query_langs, doc_langs) * len(queries)
                count += len(queries)
            rows.append([label, f"{totals['AP'] / count:.4f}", f"{totals['AP@20'] / count:.4f}", f"{shares / count:.3f}"])
            print(f"{label} done", flush=True)
        index.close()
    print(format_table(["retrieval", f"MAP (top {args.depth})" if args.depth else "full MAP", "MAP@20",
                        "same-language share of top 10"], rows))


def _cut_after_last_relevant(run: Run, relevant: dict[str, set[str]]) -> Run:
    """The run with each ranking cut after its last relevant document, and after rank 10 at least
    (AP and MAP@20 are unchanged; the same-language share reads the top 10)."""
    cut = {}
    for qid in run:
        ranking = run.ranking(qid)
        wanted = relevant.get(qid, set())
        last = max((rank for rank, (doc, _) in enumerate(ranking) if doc in wanted), default=-1)
        cut[qid] = dict(ranking[:max(last + 1, 20)])
    return Run(cut, name=run.name)


if __name__ == "__main__":
    main()
