"""The quickstart: index the demo collection, run its queries, print a per-language table.

``quickstart(out)`` writes under ``out``: the collection (BEIR layout + topics.tsv + qrels.trec),
the index (``out/index``) and the run (``out/bm25.run``); it returns the text it reports.
Running it again reuses what is there (documents already indexed are kept).
"""

from __future__ import annotations

import time
from pathlib import Path

from babelir.errors import BabelirError


def quickstart(out: str | Path = "babelir-quickstart", quiet: bool = False, echo=print) -> None:
    """Run the quickstart, printing each step through ``echo``."""
    from babelir.evaluate.metrics import evaluate
    from babelir.evaluate.table import evaluation_table
    from babelir.index.build import build_index
    from babelir.io.demo import DEMO_LANGS, is_cross_lingual, load_demo
    from babelir.retrieve.bm25 import BM25Retriever

    out = Path(out)
    if out.exists() and not (out / "topics.tsv").exists() and any(out.iterdir()):
        raise BabelirError(f"{out}: exists and is not a quickstart directory; choose another with -o")
    started = time.perf_counter()
    demo = load_demo()
    demo.write(out / "collection")
    crossing = [q for q in demo.queries if is_cross_lingual(q.id)]
    echo(f"demo collection: {len(demo.docs)} passages in {len(DEMO_LANGS)} languages "
         f"({' '.join(DEMO_LANGS)}), {len(demo.queries)} queries ({len(crossing)} cross-lingual) -> {out / 'collection'}")
    summary = build_index(out / "collection", out / "index", quiet=quiet)
    echo(summary.lines()[0])
    retriever = BM25Retriever(out / "index")
    try:
        run = retriever.retrieve(demo.queries, k=100)
        run.to_trec(out / "bm25.run")
        langs = {q.id: q.lang for q in demo.queries}
        for title, chosen in (("monolingual queries: the relevant passage is in the query's language", False),
                              ("cross-lingual queries: the topic's passage in all 12 languages is relevant", True)):
            ids = {q.id for q in demo.queries if is_cross_lingual(q.id) == chosen}
            qrels = [q for q in demo.qrels if q.query_id in ids]
            evaluation = evaluate(run, qrels, ["nDCG@10", "R@100", "RR@10"], langs)
            echo(f"\nBM25, {title}")
            echo(evaluation_table(evaluation, digits=3))
        echo("\nA Thai query, one of the demo's:")
        from babelir.cli.search_cmd import print_hits

        print_hits(retriever, "ภูเขาที่สูงที่สุดในแอฟริกา", 3, None)
    finally:
        retriever.close()
    echo(f"\ndone in {time.perf_counter() - started:.1f}s. Try it yourself:\n"
         f"  babelir search {out / 'index'} --query \"the highest mountain in Africa\"\n"
         f"  babelir search {out / 'index'} --topics {out / 'collection' / 'topics.tsv'} -o run.trec\n"
         f"  babelir eval {out / 'collection' / 'qrels.trec'} {out / 'bm25.run'} -m nDCG@10 -m R@100 --by-lang")
