"""How often a text's own language, and another language, count as plausible for it
(``babelir.text.langid.plausible_languages``), for several ratios; on XQuAD-R.

    python -m benchmarks.langid_plausible [--part train|test|all] [--ratios 0.001 0.01 0.1]

Texts: the questions of the chosen articles in 11 languages, and short texts (each question's first
answer span that has letters: names, dates, short phrases). For each ratio: the share of texts whose
own language is plausible (lexical evidence keeps counting for documents in it) and the share for
which some other XQuAD-R language is plausible too (lexical evidence also counts there). The default
ratio (PLAUSIBLE_RATIO) was chosen on the train articles.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from babelir.evaluate.table import format_table
from babelir.io.xquadr import XQUADR_LANGS, XQUADR_TEST_ARTICLES
from babelir.text.langid import PLAUSIBLE_RATIO, language_probabilities
from benchmarks import XQUADR


def texts(source: Path, part: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(language, question) and (language, answer span) pairs of the chosen articles."""
    questions, spans = [], []
    for lang in XQUADR_LANGS:
        data = json.loads((source / f"{lang}.json").read_text(encoding="utf-8"))["data"]
        for article in data:
            if part != "all" and (article.get("title") in XQUADR_TEST_ARTICLES) != (part == "test"):
                continue
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    questions.append((lang, qa["question"]))
                    span = qa["answers"][0]["text"]
                    if any(ch.isalpha() for ch in span):
                        spans.append((lang, span))
    return questions, spans


def shares(pairs: list[tuple[str, str]], ratios: list[float]) -> list[tuple[float, float, float]]:
    """Per ratio: (ratio, share with the own language plausible, share with another plausible)."""
    relative = []
    for lang, text in pairs:
        probabilities = language_probabilities(text)
        best = max(probabilities.values())
        own = probabilities.get(lang, 0.0) / best
        other = max(p for code, p in probabilities.items() if code in XQUADR_LANGS and code != lang) / best
        relative.append((own, other))
    return [(r, sum(o >= r for o, _ in relative) / len(relative), sum(x >= r for _, x in relative) / len(relative))
            for r in ratios]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--part", default="train", choices=["train", "test", "all"])
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3])
    args = parser.parse_args(argv)
    questions, spans = texts(Path(args.data), args.part)
    q_rows, s_rows = shares(questions, args.ratios), shares(spans, args.ratios)
    rows = [[f"{r:g}" + (" (default)" if r == PLAUSIBLE_RATIO else ""), f"{qo:.2%}", f"{qx:.2%}", f"{so:.2%}", f"{sx:.2%}"]
            for (r, qo, qx), (_, so, sx) in zip(q_rows, s_rows)]
    print(f"{len(questions)} questions and {len(spans)} answer spans of the {args.part} articles")
    print(format_table(["ratio", "questions: own plausible", "another plausible", "spans: own plausible",
                        "another plausible"], rows))


if __name__ == "__main__":
    main()
