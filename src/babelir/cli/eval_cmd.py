"""``babelir eval QRELS RUN -m nDCG@10 -m R@100 [--by-lang] [--json]``"""

from __future__ import annotations

import json


def register(p) -> None:
    p.add_argument("qrels", help="TREC qrels or BEIR TSV qrels (or a BEIR directory)")
    p.add_argument("run", help="TREC run file")
    p.add_argument("-m", "--measure", action="append", dest="measures",
                   help="ir_measures measure, repeatable (default: nDCG@10 R@100 RR@10 AP)")
    p.add_argument("--by-lang", action="store_true", help="break results down by query language")
    p.add_argument("--topics", help="topics with a lang column (else the query id prefix 'xx-' gives the language)")
    p.add_argument("--json", action="store_true", help='print {"all": {...}, "by_lang": {...}}')


def run(args) -> int:
    from babelir.evaluate.metrics import DEFAULT_MEASURES, evaluate, query_languages
    from babelir.evaluate.table import evaluation_table
    from babelir.io.qrels import read_qrels
    from babelir.io.topics import read_topics
    from babelir.run import Run

    qrels = read_qrels(args.qrels)
    result = Run.from_trec(args.run)
    langs = None
    if args.by_lang:
        topics = read_topics(args.topics) if args.topics else None
        langs = query_languages({q.query_id for q in qrels}, topics)
        if set(langs.values()) <= {"und"}:  # nothing to break down by: say where languages come from
            import sys

            print("babelir eval: note: no query has a language (give --topics with a lang column, or query "
                  "ids prefixed 'xx-'); every query is under und", file=sys.stderr)
    evaluation = evaluate(result, qrels, args.measures or DEFAULT_MEASURES, langs)
    if args.json:
        print(json.dumps(evaluation.to_json(), indent=2))
    else:
        print(evaluation_table(evaluation))
    return 0
