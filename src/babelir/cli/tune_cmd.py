"""``babelir tune INDEX --topics TOPICS --qrels QRELS [--hybrid-of bm25,dense] [--fusion zscore]``"""

from __future__ import annotations

import json

from babelir.cli.argtypes import open_fraction, positive_float, positive_int


def register(p) -> None:
    p.add_argument("index", help="index directory (built with the vectors the modes need)")
    p.add_argument("--topics", required=True, help="topics file (TSV qid<TAB>text[<TAB>lang] or queries.jsonl)")
    p.add_argument("--qrels", required=True, help="TREC or BEIR TSV qrels for the topics")
    p.add_argument("--hybrid-of", default=None,
                   help="modes to fuse, comma-separated (default: as hybrid search, bm25,dense and sparse when indexed)")
    p.add_argument("--fusion", default="zscore", choices=["zscore", "linear"],
                   help="fusion to tune (default zscore, hybrid search's default)")
    p.add_argument("-m", "--measure", default="nDCG@10", help="measure to maximise (default nDCG@10)")
    p.add_argument("--dev-fraction", type=open_fraction, default=0.5,
                   help="share of each language's queries used to pick the weights (by a hash of the query id; "
                        "the rest is held out to check them; default 0.5)")
    p.add_argument("--step", type=positive_float, default=0.1, help="weight grid step (default 0.1)")
    p.add_argument("--depth", type=positive_int, default=100, help="documents per mode before fusion (default 100)")
    p.add_argument("--dry-run", action="store_true", help="report, but do not store the weights")
    p.add_argument("--json", action="store_true", help="print the per-language outcome as JSON")


def search_fusion(index, modes, fusion: str, queries):
    """``fuse(runs, weights)`` as ``babelir search --mode hybrid`` fuses (language-aware), so that
    tune scores the ranking its weights will be used for."""
    from babelir.retrieve.hybrid import fusion_function
    from babelir.retrieve.language_gate import dense_calibrated, fuse_runs, query_languages, run_scopes

    scopes = run_scopes(modes, "dense" in modes and dense_calibrated(index, None))
    langs = {q.id: query_languages(q) for q in queries}
    plain = fusion_function(fusion)
    return lambda runs, weights: fuse_runs(index, runs, scopes, plain, weights, langs)


def run(args) -> int:
    from babelir.evaluate.table import format_table
    from babelir.index.core import Index
    from babelir.io.qrels import read_qrels
    from babelir.io.topics import read_topics
    from babelir.retrieve.hybrid import default_modes, parse_modes
    from babelir.retrieve.stage import BM25, Dense, Sparse
    from babelir.retrieve.language_gate import held_counts
    from babelir.tune import tune_weights, weight_grid

    queries, qrels = read_topics(args.topics), read_qrels(args.qrels)
    with Index.open(args.index, writable=not args.dry_run) as index:
        modes = default_modes(index) if args.hybrid_of is None else parse_modes(args.hybrid_of)
        weight_grid(len(modes), args.step)  # a bad --step fails before the runs are made
        first = {"bm25": BM25, "dense": Dense, "sparse": Sparse}  # the stages hybrid(...) fuses, with their defaults
        runs = [first[mode](index).retrieve(queries, args.depth) for mode in modes]
        outcome = tune_weights(runs, queries, qrels, args.fusion, args.measure, args.dev_fraction, args.step,
                               fuse=search_fusion(index, modes, args.fusion, queries),
                               among=held_counts(index) or None)
        skipped = [o.lang for o in outcome if not o.tuned]
        if not args.dry_run:
            index.set_fusion_weights(modes, args.fusion, {o.lang: list(o.weights) for o in outcome if o.tuned},
                                     {"measure": args.measure, "dev_fraction": args.dev_fraction, "step": args.step,
                                      "topics": str(args.topics)})
    if args.json:
        print(json.dumps([o.__dict__ for o in outcome], indent=2))
    else:
        def v(x):
            return "" if x is None else f"{x:.4f}"
        print(format_table(["lang", "weights (" + ",".join(modes) + ")", "dev queries", f"dev {args.measure} tuned",
                            "dev equal", "held-out queries", "held-out tuned", "held-out equal"],
                           [[o.lang, ",".join(f"{w:.2f}" for w in o.weights), str(o.dev_queries), v(o.dev_tuned),
                             v(o.dev_equal), str(o.held_out_queries), v(o.held_out_tuned), v(o.held_out_equal)]
                            for o in outcome]))
        if skipped:
            print(f"\nno query of {', '.join(skipped)} fell in the dev split: equal weights kept for "
                  f"{'it' if len(skipped) == 1 else 'them'} (more judged queries, or a larger --dev-fraction)")
        where = "not stored (--dry-run)" if args.dry_run else f"stored in {args.index}/manifest.json"
        print(f"\nweights {where}; hybrid search with --fusion {args.fusion} --hybrid-of {','.join(modes)} "
              "and no --weights uses them per query language")
    return 0
