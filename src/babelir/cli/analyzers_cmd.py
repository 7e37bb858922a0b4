"""``babelir analyzers [--json]``"""

from __future__ import annotations

import json


def register(p) -> None:
    p.add_argument("--json", action="store_true", help="print the table as JSON")


def run(args) -> int:
    from babelir.evaluate.table import format_table
    from babelir.text.language_aware import LanguageAwareAnalyzer
    from babelir.text.languages import LANGUAGES

    analyzer = LanguageAwareAnalyzer(_notify=False)
    rows = [analyzer.describe(lang) for lang in sorted(LANGUAGES)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(format_table(["lang", "language", "normalizer", "segmenter", "lemmatizer", "stemmer", "apostrophe",
                        "stopword list", "pieces"],
                       [[r["lang"], r["name"], r["normalizer"], r["segmenter"], r["lemmatizer"] or "-",
                         r["stemmer"] or "-", r.get("apostrophe") or "-", "stopwordsiso" if r["stopword_list"] else "-",
                         r["pieces"] or "-"] for r in rows]))
    missing = [r for r in rows if r["missing"]]
    print("\nWhat no well-kept library offers (offline) for the languages added last:")
    for r in missing:
        print(f"  {r['lang']:<3} {r['name']:<9} {r['missing']}")
    print(f"\n{len(rows)} languages; any other language gets NFKC, case folding and ICU words. "
          "Stopword removal (stopwordsiso) is optional: `babelir index --stopwords`; "
          "lemmatisation before stemming is on: `--no-lemmatize` turns it off; the text's subword pieces "
          "under the bundled mE5 vocabulary are added to its words (`--no-pieces` turns them off).")
    return 0
