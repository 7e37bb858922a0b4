"""Lemmatising before stemming on XQuAD-R: BM25 nDCG@10 with and without simplemma's lemmas.

For each language with a lemmatiser, indexes its sentences twice with the language-aware analysis
(``lemmatize=False`` / ``True``, words only: without the mE5 pieces; BM25 k1 = 0.9, b = 0.4) and reports nDCG@10 on all questions and
separately on those of XQuAD-R's fixed train and test articles (the choice was made on the train
articles and is checked on the test ones).

    python -m benchmarks.xquadr_lemmatize [--langs ar de]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from babelir.evaluate.table import format_table
from babelir.index.bm25 import BM25Params
from babelir.io.xquadr import XQUADR_LANGS
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.text.languages import LANGUAGES
from benchmarks.xquadr_bm25_params import PARTS, score_language
from benchmarks import XQUADR


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=[lang for lang in XQUADR_LANGS if LANGUAGES[lang].lemmatizer])
    args = parser.parse_args(argv)
    settings = {"stem only": (LanguageAwareAnalyzer(lemmatize=False, pieces=False), BM25Params()),
                "lemma + stem": (LanguageAwareAnalyzer(pieces=False), BM25Params())}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            scores = score_language(args.data, lang, settings, Path(tmp))
            rows.append([lang] + [f"{scores[name][part]:.4f}" for part in PARTS for name in settings])
            print(f"{lang} done", flush=True)
    print(format_table(["lang"] + [f"{part} {name}" for part in PARTS for name in settings], rows))


if __name__ == "__main__":
    main()
