"""BM25 k1 / b on XQuAD-R: would other parameters than Lucene's defaults (0.9, 0.4) help?

Indexes each language once per (k1, b) pair with the default language-aware analysis, searches all
1,190 questions, and reports nDCG@10 on all of them and separately on the questions of XQuAD-R's
fixed train and test articles (``babelir.train.data``): a pair chosen on the train articles can be
checked on the test ones. Prints one table per measure set and the averages over the languages.

    python -m benchmarks.xquadr_bm25_params [--langs ar de] [--grid 0.9:0.4,1.2:0.75] [--no-pieces]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language, paragraph_articles, query_parts
from babelir.retrieve.bm25 import BM25Retriever
from babelir.text.analyzer import get_analyzer
from benchmarks import XQUADR

DEFAULT_GRID = "0.9:0.4,0.5:0.5,0.6:0.3,0.9:0.2,0.9:0.6,0.9:0.75,1.2:0.3,1.2:0.4,1.2:0.75,1.5:0.5"
PARTS = ("all", "train", "test")


def parse_grid(text: str) -> list[tuple[float, float]]:
    """``"0.9:0.4,1.2:0.75"`` -> ``[(0.9, 0.4), (1.2, 0.75)]``."""
    pairs = []
    for item in text.split(","):
        k1, _, b = item.partition(":")
        pairs.append((float(k1), float(b)))
    return pairs


def score_language(data: str, lang: str, settings: dict, workdir: Path) -> dict:
    """For one language: setting name -> {"all" | "train" | "test": nDCG@10}; ``settings`` maps a
    name to ``(analyzer, BM25Params)``."""
    collection, _ = load_language(data, lang)
    titles = paragraph_articles(data, lang)
    part = query_parts(collection, titles)
    scores = {}
    for number, (name, (analyzer, params)) in enumerate(settings.items()):
        index = Index.create(workdir / f"{lang}-{number}", analyzer=analyzer, params=params)
        index.add(collection.docs)
        run = BM25Retriever(index).retrieve(collection.queries, k=100)
        index.close()
        result = evaluate(run, collection.qrels, ["nDCG@10"], langs=part)
        scores[name] = {"all": result.all["nDCG@10"], **{p: result.by_lang[p]["nDCG@10"] for p in ("train", "test")}}
    return scores


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--grid", default=DEFAULT_GRID, help="k1:b pairs, comma-separated")
    parser.add_argument("--no-pieces", action="store_true", help="language-aware words only, without mE5 pieces")
    args = parser.parse_args(argv)
    grid = parse_grid(args.grid)
    per_lang = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            settings = {pair: (get_analyzer("language-aware", pieces=not args.no_pieces), BM25Params(*pair)) for pair in grid}
            per_lang[lang] = score_language(args.data, lang, settings, Path(tmp))
            print(f"{lang} done", flush=True)
    header = ["k1", "b"] + list(args.langs) + [f"avg {name}" for name in PARTS]
    rows = []
    for k1, b in grid:
        rows.append([f"{k1}", f"{b}"] + [f"{per_lang[lang][(k1, b)]['all']:.4f}" for lang in args.langs]
                    + [f"{statistics.mean(per_lang[lang][(k1, b)][name] for lang in args.langs):.4f}"
                       for name in PARTS])
    print("nDCG@10 on all questions per language; averages on all, train-article and test-article questions")
    print(format_table(header, rows))


if __name__ == "__main__":
    main()
