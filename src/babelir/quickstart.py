"""The quickstart: index the demo collection, run its queries in every mode, print per-language tables.

``quickstart(out)`` writes under ``out``: the collection (BEIR layout + topics.tsv + qrels.trec),
the index with dense and learned sparse vectors (``out/index``) and one run per mode
(``out/<mode>.run``: bm25, dense, sparse, and hybrid: the language-aware z-score
fusion of bm25, dense and sparse).
Running it again reuses what is there (documents already indexed are kept).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from babelir.errors import BabelirError


def quickstart(out: str | Path = "babelir-quickstart", quiet: bool = False, echo=print) -> None:
    """Run the quickstart, printing each step through ``echo``."""
    from babelir.encode.base import get_encoder
    from babelir.evaluate.metrics import evaluate
    from babelir.evaluate.table import modes_table
    from babelir.index.build import build_index
    from babelir.index.manifest import MANIFEST, read_manifest
    from babelir.io.demo import DEMO_LANGS, is_cross_lingual, load_demo
    from babelir.index.core import Index
    from babelir.retrieve.pipeline import from_mode

    out = Path(out)
    if out.exists() and not (out / "collection" / "topics.tsv").exists() and any(out.iterdir()):
        raise BabelirError(f"{out}: exists and is not a quickstart directory; choose another with -o")
    started = time.perf_counter()
    demo = load_demo()
    demo.write(out / "collection")
    crossing = [q for q in demo.queries if is_cross_lingual(q.id)]
    echo(f"demo collection: {len(demo.docs)} passages in {len(DEMO_LANGS)} languages "
         f"({' '.join(DEMO_LANGS)}), {len(demo.queries)} queries ({len(crossing)} cross-lingual) -> {out / 'collection'}")
    if (out / "index" / MANIFEST).exists() and not read_manifest(out / "index").get("sparse"):
        echo(f"{out / 'index'}: made by an earlier quickstart without sparse vectors; building it again")
        shutil.rmtree(out / "index")
    summary = build_index(out / "collection", out / "index", quiet=quiet, encoder=get_encoder(), sparse=True,
                          batch_size=1000)
    echo(summary.lines()[0] + " with BM25 terms, dense vectors and sparse latent terms (multilingual-e5-small)")
    runs = {}
    for mode in ("bm25", "dense", "sparse", "hybrid"):
        with Index.open(out / "index") as index:  # the pipeline of babelir search --mode MODE
            runs[mode] = from_mode(index, mode).retrieve(demo.queries, k=100)
        runs[mode].to_trec(out / f"{mode}.run")
    langs = {q.id: q.lang for q in demo.queries}
    for title, chosen in (("monolingual queries: the relevant passage is in the query's language", False),
                          ("cross-lingual queries: the topic's passage in all 12 languages is relevant", True)):
        ids = {q.id for q in demo.queries if is_cross_lingual(q.id) == chosen}
        qrels = [q for q in demo.qrels if q.query_id in ids]
        evaluations = {mode: evaluate(run, qrels, ["nDCG@10", "R@100"], langs) for mode, run in runs.items()}
        echo(f"\n{title}")
        echo(modes_table(evaluations, ["nDCG@10", "R@100"]))
    from babelir.present import print_hits

    echo("\nA Thai query in dense mode: the answer in Thai, then in other languages")
    with Index.open(out / "index") as index:
        print_hits(from_mode(index, "dense"), "ภูเขาที่สูงที่สุดในแอฟริกา", 5, None)
    echo(f"\ndone in {time.perf_counter() - started:.1f}s. Try it yourself:\n"
         f"  babelir search {out / 'index'} --query \"the highest mountain in Africa\"\n"
         f"  babelir search {out / 'index'} --query \"la montaña más alta de África\" --mode hybrid\n"
         f"  babelir search {out / 'index'} --topics {out / 'collection' / 'topics.tsv'} -o run.trec\n"
         f"  babelir eval {out / 'collection' / 'qrels.trec'} {out / 'hybrid.run'} -m nDCG@10 -m R@100 --by-lang")
