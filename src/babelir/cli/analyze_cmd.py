"""``babelir analyze --lang th "…"``"""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("text", help="the text to analyse")
    p.add_argument("--lang", default="auto", help="language code, or 'auto' to detect it (default)")
    p.add_argument("--analyzer", default="language-aware", choices=["language-aware", "script-aware"])
    p.add_argument("--stopwords", action="store_true", help="remove stopwords")


def run(args) -> int:
    from babelir.cli.index_cmd import make_analyzer
    from babelir.types import normalize_lang

    lang = args.lang
    if lang == "auto":
        from babelir.text.langid import detect

        lang = detect(args.text)
        print(f"# detected language: {lang}")
    else:
        lang = normalize_lang(lang)
    print(" ".join(make_analyzer(args.analyzer, args.stopwords).analyze(args.text, lang)))
    return 0
