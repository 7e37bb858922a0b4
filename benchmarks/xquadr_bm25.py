"""BM25 on XQuAD-R, per language: babelir (its default analysis, or another; exact BM25 over its postings segments)
side by side with bm25s (its default tokenizer, and with its Snowball stemmer where PyStemmer
has one for the language), in one run.

    python -m benchmarks.xquadr_bm25 [--data ../shared/data/xquad-r] [--langs en th zh] [--analyzer script-aware|subword|language-aware+subword] [--no-pieces]

Prints nDCG@10 and R@100 per language for both (measured with babelir.evaluate, i.e. ir_measures),
the ratio babelir / bm25s, and index and search times. Both use k1 = 0.9, b = 0.4 (Lucene BM25).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.retrieve.bm25 import BM25Retriever
from babelir.run import Run
from babelir.text.analyzer import get_analyzer
from benchmarks import XQUADR

MEASURES = ["nDCG@10", "R@100"]


def make_analyzer(name: str, collection, pieces: bool = True):
    """The analyzer called ``name``; ``pieces=False``: the language-aware words without mE5 pieces."""
    if name in ("subword", "language-aware+subword"):  # trained on the collection's own passages
        from babelir.text.subword import SubwordAnalyzer, WordsAndPiecesAnalyzer, train_subword_model

        trained = SubwordAnalyzer(train_subword_model((d.text for d in collection.docs), vocab_size=8000))
        return trained if name == "subword" else WordsAndPiecesAnalyzer(get_analyzer(pieces=False), trained)
    return get_analyzer(name, pieces=pieces) if name == "language-aware" else get_analyzer(name)


def run_babelir(collection, workdir: Path, analyzer: str, pieces: bool = True) -> tuple[Run, float, float]:
    started = time.perf_counter()
    index = Index.create(workdir / collection.name, analyzer=make_analyzer(analyzer, collection, pieces),
                                params=BM25Params(0.9, 0.4))
    index.add(collection.docs)
    indexed = time.perf_counter()
    run = BM25Retriever(index).retrieve(collection.queries, k=100)
    index.close()
    return run, indexed - started, time.perf_counter() - indexed


SNOWBALL = {"ar": "arabic", "de": "german", "el": "greek", "en": "english", "es": "spanish", "hi": "hindi",
            "ru": "russian", "tr": "turkish"}


def run_bm25s(collection, lang: str | None = None) -> tuple[Run, float, float]:
    """bm25s with its default tokenizer; with ``lang``, also its Snowball stemmer for that language."""
    import bm25s

    stemmer = None
    if lang in SNOWBALL:
        import Stemmer

        stemmer = Stemmer.Stemmer(SNOWBALL[lang])
    started = time.perf_counter()
    retriever = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    retriever.index(bm25s.tokenize([d.text for d in collection.docs], stopwords=None, stemmer=stemmer,
                                   show_progress=False), show_progress=False)
    indexed = time.perf_counter()
    tokens = bm25s.tokenize([q.text for q in collection.queries], stopwords=None, stemmer=stemmer, show_progress=False)
    k = min(100, len(collection.docs))
    ids, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
    run = Run({q.id: {collection.docs[i].id: float(s) for i, s in zip(ids[n], scores[n]) if s > 0}
               for n, q in enumerate(collection.queries)}, name="bm25s")
    return run, indexed - started, time.perf_counter() - indexed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--analyzer", default="language-aware", choices=["language-aware", "script-aware", "subword",
                                                                     "language-aware+subword"])
    parser.add_argument("--no-pieces", action="store_true", help="language-aware words only, without mE5 pieces")
    args = parser.parse_args(argv)
    rows, totals = [], {"babelir": [0.0, 0.0], "bm25s": [0.0, 0.0], "stem": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            ours, t_index, t_search = run_babelir(collection, Path(tmp), args.analyzer, not args.no_pieces)
            theirs, s_index, s_search = run_bm25s(collection)
            stemmed, _, _ = run_bm25s(collection, lang)
            a = evaluate(ours, collection.qrels, MEASURES).all
            b = evaluate(theirs, collection.qrels, MEASURES).all
            c = evaluate(stemmed, collection.qrels, ["nDCG@10"]).all["nDCG@10"]
            totals["stem"] += c
            for name, value in (("babelir", a), ("bm25s", b)):
                totals[name][0] += value["nDCG@10"]
                totals[name][1] += value["R@100"]
            ratio = a["nDCG@10"] / b["nDCG@10"] if b["nDCG@10"] else float("inf")
            rows.append([lang, f"{a['nDCG@10']:.4f}", f"{b['nDCG@10']:.4f}",
                         f"{c:.4f}" if lang in SNOWBALL else "(none)", f"{ratio:.2f}x",
                         f"{a['R@100']:.3f}", f"{b['R@100']:.3f}",
                         f"{t_index:.2f}/{t_search:.2f}", f"{s_index:.2f}/{s_search:.2f}"])
            print(f"{lang} done", flush=True)
    n = len(args.langs)
    avg_a, avg_b = totals["babelir"][0] / n, totals["bm25s"][0] / n
    rows.append(["avg", f"{avg_a:.4f}", f"{avg_b:.4f}", f"{totals['stem'] / n:.4f}", f"{avg_a / avg_b:.2f}x",
                 f"{totals['babelir'][1] / n:.3f}", f"{totals['bm25s'][1] / n:.3f}", "", ""])
    print(format_table(["lang", "nDCG@10 babelir", "nDCG@10 bm25s", "bm25s+Snowball", "ratio", "R@100 babelir", "R@100 bm25s",
                        "babelir index/search s", "bm25s index/search s"], rows))


if __name__ == "__main__":
    main()
