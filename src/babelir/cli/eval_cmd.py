"""``babelir eval QRELS RUN -m nDCG@10 -m R@100 [--by-lang] [--condensed] [--judged K | --no-judged] [--json]``"""

from __future__ import annotations

import json

from babelir.cli.argtypes import positive_int


def register(p) -> None:
    p.add_argument("qrels", help="TREC qrels or BEIR TSV qrels (or a BEIR directory)")
    p.add_argument("run", help="TREC run file")
    p.add_argument("-m", "--measure", action="append", dest="measures",
                   help="ir_measures measure, repeatable (default: nDCG@10 R@100 RR@10 AP)")
    p.add_argument("--by-lang", action="store_true", help="break results down by query language")
    p.add_argument("--topics", help="topics with a lang column (else the query id prefix 'xx-' gives the language)")
    p.add_argument("--condensed", action="store_true",
                   help="also take each measure on the condensed run, without the documents the qrels do not "
                        "judge (Sakai 2007; trec_eval -J), as a column 'MEASURE (condensed)'")
    p.add_argument("--judged", type=positive_int, default=10, metavar="K",
                   help="depth of the Judged@K line under the table: the share of each top K that the qrels "
                        "judge (default: 10)")
    p.add_argument("--no-judged", action="store_const", const=None, dest="judged", help="leave the Judged@K line out")
    p.add_argument("--json", action="store_true",
                   help='print {"all": {...}, "by_lang": {...}, "judged": {"measure": "Judged@10", "all": ...}}')


def run(args) -> int:
    import sys

    from babelir.evaluate.metrics import DEFAULT_MEASURES, evaluate, parse_measures, query_languages
    from babelir.evaluate.table import evaluation_table, judged_line
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
            print("babelir eval: note: no query has a language (give --topics with a lang column, or query "
                  "ids prefixed 'xx-'); every query is under und", file=sys.stderr)
    measures = args.measures or DEFAULT_MEASURES
    evaluation = evaluate(result, qrels, measures, langs, condensed=args.condensed, judged=args.judged)
    robust = args.condensed or any(m.NAME == "Bpref" or m.params.get("judged_only") for m in parse_measures(measures))
    if robust and not any(q.relevance <= 0 for q in qrels):  # qrels that list only the answers (XQuAD-R)
        print("babelir eval: note: the qrels judge no document non-relevant (grade 0 or below): condensed "
              "lists and Bpref then only say where the relevant documents are found", file=sys.stderr)
    if args.json:
        print(json.dumps(evaluation.to_json(), indent=2))
    else:
        print(evaluation_table(evaluation))
        if evaluation.judged is not None:
            print(judged_line(evaluation.judged))
    return 0
