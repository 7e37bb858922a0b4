"""``babelir compare QRELS RUN_A RUN_B [-m nDCG@10] [--json]``"""

from __future__ import annotations

import json

from babelir.cli.argtypes import positive_int


def register(p) -> None:
    p.add_argument("qrels", help="TREC qrels or BEIR TSV qrels")
    p.add_argument("run_a", help="TREC run file A")
    p.add_argument("run_b", help="TREC run file B")
    p.add_argument("-m", "--measure", action="append", dest="measures", help="measure, repeatable (default nDCG@10)")
    p.add_argument("--topics", help="topics with a lang column (else the query id prefix gives the language)")
    p.add_argument("--resamples", type=positive_int, default=10_000, help="randomization test resamples (default 10000)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")


def run(args) -> int:
    from babelir.evaluate.compare import compare_runs
    from babelir.evaluate.metrics import query_languages
    from babelir.evaluate.table import format_table
    from babelir.io.qrels import read_qrels
    from babelir.io.topics import read_topics
    from babelir.run import Run

    qrels = read_qrels(args.qrels)
    topics = read_topics(args.topics) if args.topics else None
    langs = query_languages({q.query_id for q in qrels}, topics)
    rows = compare_runs(Run.from_trec(args.run_a), Run.from_trec(args.run_b), qrels,
                        args.measures or ["nDCG@10"], langs, resamples=args.resamples)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return 0
    def p(value):
        return "" if value is None else f"{value:.4f}"
    print(format_table(["measure", "lang", "queries", "A", "B", "B-A", "p t-test", "p rand", "p t (Holm)", "p rand (Holm)"],
                       [[r.measure, r.group, str(r.queries), f"{r.mean_a:.4f}", f"{r.mean_b:.4f}",
                         f"{r.mean_b - r.mean_a:+.4f}", p(r.p_ttest), p(r.p_randomization),
                         p(r.p_ttest_holm), p(r.p_randomization_holm)] for r in rows]))
    print("\nHolm correction is across the languages of each measure.")
    return 0
