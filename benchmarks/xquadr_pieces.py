"""mE5 subword pieces beside the words on XQuAD-R: BM25 nDCG@10 with and without them.

For each language, indexes its sentences with the language-aware analysis three ways (BM25
k1 = 0.9, b = 0.4): words only; words plus the pieces of the bundled multilingual-e5-small
vocabulary (:mod:`babelir.text.e5_pieces`); and words plus the pieces of a SentencePiece model of
8,000 pieces trained on the collection itself (``language-aware+subword``). nDCG@10 is reported on
all questions and separately on those of XQuAD-R's fixed train and test articles: which languages
get the mE5 pieces by default (``babelir.text.languages.WITHOUT_PIECES``) was decided on the train
articles and is checked on the test ones.

    python -m benchmarks.xquadr_pieces [--langs de vi]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from babelir.evaluate.table import format_table
from babelir.index.bm25 import BM25Params
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.text.e5_pieces import e5_pieces
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.text.subword import SubwordAnalyzer, WordsAndPiecesAnalyzer, train_subword_model
from benchmarks.xquadr_bm25_params import PARTS, score_language
from benchmarks import XQUADR


class _AllLanguagesPieces(LanguageAwareAnalyzer):
    """The default analysis with the mE5 pieces added in every language (also ar and vi)."""

    def analyze(self, text: str, lang: str | None = None) -> list[str]:
        return self.words(text, lang) + e5_pieces(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    args = parser.parse_args(argv)
    names = ("words", "words + mE5 pieces", "words + own pieces")
    per_lang = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            own = SubwordAnalyzer(train_subword_model((d.text for d in collection.docs), vocab_size=8000))
            settings = dict(zip(names, [(LanguageAwareAnalyzer(pieces=False), BM25Params()),
                                        (_AllLanguagesPieces(), BM25Params()),
                                        (WordsAndPiecesAnalyzer(LanguageAwareAnalyzer(pieces=False), own),
                                         BM25Params())]))
            per_lang[lang] = score_language(args.data, lang, settings, Path(tmp))
            print(f"{lang} done", flush=True)
    rows = [[lang] + [f"{per_lang[lang][name][part]:.4f}" for part in PARTS for name in names] for lang in args.langs]
    rows.append(["avg"] + [f"{statistics.mean(per_lang[lang][name][part] for lang in args.langs):.4f}"
                           for part in PARTS for name in names])
    print("nDCG@10 on all questions, on the train-article questions and on the test-article questions")
    print(format_table(["lang"] + [f"{part}: {name}" for part in PARTS for name in names], rows))


if __name__ == "__main__":
    main()
