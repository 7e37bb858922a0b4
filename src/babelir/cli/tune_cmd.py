"""``babelir tune INDEX --topics TOPICS --qrels QRELS [--pipeline SPEC | --hybrid-of bm25,dense --fusion zscore]``

What is tuned is the fusion stage of a pipeline spec, the spec ``babelir search --pipeline`` takes
(``hybrid(bm25,dense,fusion=zscore)``; the stages after it are not part of the tuning);
``--hybrid-of/--fusion/--depth`` are shorthand for one (:func:`babelir.tune.shorthand_spec`)."""

from __future__ import annotations

import json

from babelir.cli.argtypes import open_fraction, positive_float, positive_int


def register(p) -> None:
    p.add_argument("index", help="index directory (built with the vectors the modes need)")
    p.add_argument("--topics", required=True, help="topics file (TSV qid<TAB>text[<TAB>lang] or queries.jsonl)")
    p.add_argument("--qrels", required=True, help="TREC or BEIR TSV qrels for the topics")
    p.add_argument("--pipeline", default=None, metavar="SPEC",
                   help="the search whose fusion is tuned, as babelir search --pipeline takes it, e.g. "
                        "'hybrid(bm25,dense,fusion=zscore)' (it must open with a hybrid(...) without weights; "
                        "replaces --hybrid-of, --fusion and --depth)")
    p.add_argument("--hybrid-of", default=None,
                   help="shorthand: modes to fuse, comma-separated (default: as hybrid search, bm25,dense and "
                        "sparse when indexed)")
    p.add_argument("--fusion", default=None, choices=["zscore", "linear"],
                   help="shorthand: fusion to tune (default zscore, hybrid search's default)")
    p.add_argument("-m", "--measure", default="nDCG@10", help="measure to maximise (default nDCG@10)")
    p.add_argument("--dev-fraction", type=open_fraction, default=0.5,
                   help="share of each language's queries used to pick the weights (by a hash of the query id; "
                        "the rest is held out to check them; default 0.5)")
    p.add_argument("--step", type=positive_float, default=0.1, help="weight grid step (default 0.1)")
    p.add_argument("--depth", type=positive_int, default=None,
                   help="shorthand: documents per mode before fusion (default 100; hybrid's depth=)")
    p.add_argument("--dry-run", action="store_true", help="report, but do not store the weights")
    p.add_argument("--json", action="store_true", help="print the per-language outcome as JSON")


def tune_spec(args, index) -> str:
    """``--pipeline`` as given, else the spec ``--hybrid-of/--fusion/--depth`` stand for."""
    from babelir.errors import BabelirError
    from babelir.retrieve.hybrid import default_modes, parse_modes
    from babelir.tune import shorthand_spec

    if args.pipeline is not None:
        given = [o for o in ("hybrid_of", "fusion", "depth") if getattr(args, o) is not None]
        if given:
            raise BabelirError(f"--pipeline replaces --hybrid-of, --fusion and --depth; drop "
                               f"--{given[0].replace('_', '-')} (write it in the pipeline)")
        return args.pipeline
    modes = default_modes(index) if args.hybrid_of is None else parse_modes(args.hybrid_of)
    return shorthand_spec(modes, args.fusion or "zscore", 100 if args.depth is None else args.depth)


def run(args) -> int:
    from babelir.evaluate.table import format_table
    from babelir.index.core import Index
    from babelir.io.qrels import read_qrels
    from babelir.io.topics import read_topics
    from babelir.tune import tune_pipeline

    queries, qrels = read_topics(args.topics), read_qrels(args.qrels)
    with Index.open(args.index, writable=not args.dry_run) as index:
        spec = tune_spec(args, index)
        modes, fusion, outcome = tune_pipeline(index, spec, queries, qrels, args.measure, args.dev_fraction, args.step)
        skipped = [o.lang for o in outcome if not o.tuned]
        if not args.dry_run:
            index.set_fusion_weights(modes, fusion, {o.lang: list(o.weights) for o in outcome if o.tuned},
                                     {"measure": args.measure, "dev_fraction": args.dev_fraction, "step": args.step,
                                      "topics": str(args.topics), "pipeline": spec})
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
        print(f"\nweights {where} (tuned: {spec}); hybrid search with --fusion {fusion} --hybrid-of "
              f"{','.join(modes)} and no --weights uses them per query language, as does any pipeline "
              f"whose hybrid fuses {','.join(modes)} by {fusion} without weights")
    return 0
