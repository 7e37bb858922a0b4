"""``babelir abstain calibrate INDEX --topics T --qrels Q [--pipeline SPEC | --mode MODE] [-o CAL.json]``

Fits, per query language, P(a relevant document is in the top k) for one pipeline over one index
(:mod:`babelir.abstain.calibration`). Topics without a relevant document in the qrels are the
queries with nothing to find (NoMIRACL's non-relevant subset); they must be there too.
"""

from __future__ import annotations

import sys

from babelir.cli.argtypes import language, output_file, positive_int


def register(p) -> None:
    sub = p.add_subparsers(dest="abstain_subcommand", metavar="SUBCOMMAND", required=True)
    cal = sub.add_parser("calibrate", help="fit P(relevant in the top k) per language for a pipeline over an index",
                         description="fit P(relevant in the top k) per query language for a pipeline over an index")
    cal.add_argument("index", help="index directory")
    cal.add_argument("--topics", required=True,
                     help="topics to calibrate on (TSV or queries.jsonl): with and without a relevant document")
    cal.add_argument("--qrels", required=True, help="their qrels (TREC or BEIR); a topic without a relevant "
                                                    "document in them is a query with nothing to find")
    how = cal.add_mutually_exclusive_group()
    how.add_argument("--pipeline", metavar="SPEC", help="the search's pipeline (as babelir search --pipeline)")
    how.add_argument("--mode", choices=["bm25", "dense", "sparse", "hybrid"],
                     help="the search's mode (as babelir search --mode; default bm25)")
    cal.add_argument("--k", type=positive_int, default=10,
                     help="the top k the probability is about (default 10: the passages a RAG prompt takes)")
    cal.add_argument("--lang", default="auto", type=language,
                     help="query language when a topic has none (default: detect)")
    cal.add_argument("--min-queries", type=positive_int, default=None,
                     help="fewest queries a language needs for its own model (default 40); fewer take the "
                          "model of all languages, and the output says so")
    cal.add_argument("-o", "--output", type=output_file, default=None, metavar="CAL.json",
                     help="where to write the calibration (default: inside the index, where babelir search "
                          "--abstain finds it)")
    cal.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    from babelir.cli import abstain_llm_cmd

    abstain_llm_cmd.register(sub.add_parser("llm", help=abstain_llm_cmd.HELP, description=abstain_llm_cmd.HELP))


def run(args) -> int:
    if args.abstain_subcommand == "llm":
        from babelir.cli.abstain_llm_cmd import run as run_llm

        return run_llm(args)
    from babelir.abstain.calibration import ALL, MIN_QUERIES, default_path, fit
    from babelir.abstain.decide import search_with_features
    from babelir.abstain.features import feature_names
    from babelir.errors import BabelirError
    from babelir.index.core import Index
    from babelir.io.qrels import qrels_dict, read_qrels
    from babelir.io.topics import read_topics
    from babelir.retrieve.pipeline import mode_spec, parse_pipeline

    queries = read_topics(args.topics)
    relevant = {q: {d for d, grade in docs.items() if grade > 0} for q, docs in qrels_dict(read_qrels(args.qrels)).items()}
    known = {q.id for q in queries}
    if not known & set(relevant):
        raise BabelirError(f"{args.qrels}: no relevant document for any topic of {args.topics} (qrels of other topics?)")
    index = Index.open(args.index)
    pipeline = None
    try:
        spec = args.pipeline if args.pipeline is not None else mode_spec(index, args.mode or "bm25")
        pipeline = parse_pipeline(spec, index)
        if index.doc_count == 0:
            raise BabelirError(f"{args.index}: the index holds no documents")
        searched = search_with_features(pipeline, index, queries, args.k, args.k, args.lang, args.quiet)
        found = [int(bool(set(searched.run.get(q.id, {})) & relevant.get(q.id, set()))) for q in queries]
        calibration = fit(pipeline.describe(), index, args.k, feature_names(searched.signals), searched.signals,
                          [searched.features[q.id] for q in queries], found,
                          [int(bool(relevant.get(q.id))) for q in queries], [searched.langs[q.id] for q in queries], args.min_queries or MIN_QUERIES)
        output = args.output or default_path(args.index, calibration.pipeline)
        calibration.save(output)
    finally:
        if pipeline is not None:
            pipeline.close()
        index.close()
    no_answer = sum(1 for q in queries if not relevant.get(q.id))
    print(f"calibrated {calibration.pipeline} over {len(queries)} queries ({no_answer} without a relevant document), "
          f"top {args.k}", file=sys.stderr)
    print(f"{'language':<10} {'queries':>8} {'found':>6} {'cv AUC':>7} {'threshold':>9}  model")
    for lang in sorted({searched.langs[q.id] for q in queries}) + [ALL]:
        n = sum(1 for q in queries if searched.langs[q.id] == lang) if lang != ALL else len(queries)
        hits = sum(f for q, f in zip(queries, found) if lang == ALL or searched.langs[q.id] == lang)
        model = calibration.languages.get(lang)
        auc = f"{model.auc:.3f}" if model is not None and model.auc is not None else "-"
        threshold = f"{model.balanced:.3f}" if model is not None else "-"
        own = "all languages" if lang == ALL else ("own" if model is not None else
                                                  f"all languages ({calibration.fallback.get(lang)})")
        print(f"{lang:<10} {n:>8} {hits:>6} {auc:>7} {threshold:>9}  {own}")
    print(f"wrote {output}", file=sys.stderr)
    return 0
