"""``babelir search INDEX --topics TOPICS -o RUN [--k 100]`` or ``babelir search INDEX --query "…" [--k 10]``,
with ``--pipeline SPEC`` (:mod:`babelir.retrieve.pipeline`) or ``--mode`` (a shorthand for one).

A batch search whose pipeline reranks prints, on stderr after the ``wrote`` line, the reranking
latency per query (:func:`babelir.retrieve.rerank.latency_line`), e.g.
``latency: rerank(llm:…,depth=5): 2 queries, mean 12.0 ms, p50 …``."""

from __future__ import annotations

import sys

from babelir.cli.argtypes import fraction, language, non_negative_float, output_file, positive_int, weight, weights


def option_names() -> set[str]:
    """Every option string of this command (``--k``, ``-o``, …)."""
    import argparse

    parser = argparse.ArgumentParser(add_help=True)
    register(parser)
    return set(parser._option_string_actions)


def register(p) -> None:
    p.add_argument("index", help="index directory")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--topics", help="topics file (TSV qid<TAB>text[<TAB>lang] or queries.jsonl)")
    what.add_argument("--query", help="one query; prints the ranked documents (one that begins with '-' "
                                      "is read as the query too: --query -adapter, or --query=-adapter)")
    p.add_argument("-o", "--output", metavar="RUN", type=output_file,
                   help="TREC run file to write (with --topics; replaced if it exists, parent directories created)")
    p.add_argument("--k", type=positive_int, default=None, help="documents per query (default 100 with --topics, 10 with --query)")
    p.add_argument("--lang", default="auto", type=language,
                   help="query language when a topic has none: a code (th, tha) or 'auto' to detect (default)")
    p.add_argument("--pipeline", default=None, metavar="SPEC",
                   help="the stages of the search, e.g. 'hybrid(bm25,dense,fusion=zscore) >> rerank(ce:DIR,depth=100)' "
                        "(replaces --mode and its options; recorded beside the run as RUN.pipeline)")
    p.add_argument("--mode", default=None, choices=["bm25", "dense", "sparse", "hybrid"],
                   help="shorthand for a pipeline: bm25 (default); dense / sparse (an index built with --dense / "
                        "--sparse); hybrid (the z-score fusion of the index's modes); each with group evidence "
                        "when the index's documents have groups")
    p.add_argument("--hybrid-of", default=None,
                   help="modes a hybrid fuses, comma-separated (default: bm25,dense, and sparse when the index has it)")
    p.add_argument("--fusion", default="zscore", choices=["zscore", "linear", "rrf"],
                   help="hybrid fusion: zscore (default: standardised scores), linear (min-max normalised) or rrf")
    p.add_argument("--lexical-everywhere", action="store_true",
                   help="hybrid: count BM25's evidence for documents in every language (by default it counts only "
                        "for documents in a language the query may be written in; dense and sparse order the rest)")
    p.add_argument("--weights", default=None, type=weights,
                   help="with --fusion linear or zscore: comma-separated weights, one per --hybrid-of mode (default equal)")
    p.add_argument("--no-debias", action="store_true",
                   help="dense: no language-bias correction (by default, when 2+ languages have 100+ documents, "
                        "each language's mean vector is removed and scores are standardised per document language)")
    p.add_argument("--no-standardise", action="store_true",
                   help="dense: keep the language-mean removal but do not standardise scores per document language")
    p.add_argument("--doc-langs", default=None, metavar="LANGS",
                   help="only documents in these languages, comma-separated (e.g. th,zh)")
    p.add_argument("--exact", action="store_true", help="dense: exact search even when the index has ANN graphs")
    p.add_argument("--group-weight", type=weight, default=None, metavar="W",
                   help="weight of each document's group evidence (documents indexed with a 'group', e.g. the "
                        "paragraph of a sentence); default 1.0 when the index has groups and one language "
                        "(0 in a multilingual pool, where it hurts); 0 turns it off; at most 1000")
    p.add_argument("--k1", type=non_negative_float, default=None, help="override the index's BM25 k1")
    p.add_argument("--b", type=fraction, default=None, help="override the index's BM25 b")
    p.add_argument("--abstain", nargs="?", const="", default=None, metavar="CAL.json",
                   help="mark each query answerable or not, with P(a relevant document is in the top k), by the "
                        "calibration of this pipeline (babelir abstain calibrate; default: the one stored in the "
                        "index); with --topics written beside the run as RUN.abstain.json")
    p.add_argument("--max-hallucination", type=fraction, default=None, metavar="H",
                   help="with --abstain: per language, the threshold at which at most this share of the "
                        "calibration's queries without a relevant document is marked answerable (default: the "
                        "balanced threshold, where the larger of the hallucination and error rates was smallest)")
    p.add_argument("--backend", default=None, choices=["local", "milvus"],
                   help="where the first stages search: milvus (default for an index mirrored into Milvus) "
                        "or local (the index directory's own search)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


MODE_OPTIONS = ("mode", "hybrid_of", "weights", "k1", "b", "doc_langs", "group_weight")
MODE_FLAGS = ("lexical_everywhere", "no_debias", "no_standardise", "exact")


def pipeline_spec(args, index) -> str:
    """The pipeline spec of ``args``: ``--pipeline`` as given, else what ``--mode`` and its options
    stand for (:func:`babelir.retrieve.pipeline.mode_spec`)."""
    from babelir.errors import BabelirError
    from babelir.retrieve.hybrid import parse_modes
    from babelir.retrieve.pipeline import mode_spec

    if args.pipeline is not None:
        given = [o for o in MODE_OPTIONS if getattr(args, o) is not None] + [o for o in MODE_FLAGS if getattr(args, o)]
        if args.fusion != "zscore":
            given.append("fusion")
        if given:
            raise BabelirError(f"--pipeline replaces --mode and its options; drop --{given[0].replace('_', '-')} "
                               "(write it in the pipeline)")
        return args.pipeline
    mode = args.mode or "bm25"
    if args.weights is not None and (mode != "hybrid" or args.fusion == "rrf"):
        raise BabelirError("--weights applies to --mode hybrid with --fusion zscore or linear "
                           "(rrf fuses ranks, unweighted)")
    modes = None if args.hybrid_of is None else parse_modes(args.hybrid_of)
    return mode_spec(index, mode, hybrid_of=modes, fusion=args.fusion, weights=args.weights, k1=args.k1, b=args.b,
                     debias=False if args.no_debias else None, standardise=not args.no_standardise,
                     doc_langs=args.doc_langs, exact=args.exact, group_weight=args.group_weight,
                     language_aware=not args.lexical_everywhere)


def run(args) -> int:
    from babelir.errors import BabelirError
    from babelir.index.core import Index
    from babelir.retrieve.pipeline import parse_pipeline, run_tag

    if args.query is not None and not args.query.strip():
        raise BabelirError("--query is blank")
    from babelir.text.searchable import NOT_SEARCHABLE, has_searchable_text

    if args.query is not None and not has_searchable_text(args.query):
        raise BabelirError(f"--query has no searchable text ({NOT_SEARCHABLE})")  # as the HTTP API
    if args.output and not args.topics:
        raise BabelirError("-o needs --topics (--query prints its results)")
    if args.max_hallucination is not None and args.abstain is None:
        raise BabelirError("--max-hallucination goes with --abstain")
    index = Index.open(args.index)
    if args.backend == "milvus" and not index.manifest.get("backend"):
        index.close()
        raise BabelirError(f"{args.index}: the index is not mirrored into Milvus (babelir index --backend milvus:PATH.db)")
    index.search_backend = args.backend
    pipeline = abstainer = None
    try:
        pipeline = parse_pipeline(pipeline_spec(args, index), index)
        if args.abstain is not None:
            from babelir.abstain.decide import Abstainer

            abstainer = Abstainer.for_search(pipeline, index, args.index, args.abstain or None, args.max_hallucination)
        if index.doc_count == 0:  # "no match" would read as a search that found nothing
            raise BabelirError(f"{args.index}: the index holds no documents yet (a first babelir index that was "
                               "interrupted before its first commit? re-run it to resume)")
        if args.topics:
            if not args.output:
                raise BabelirError("--topics needs -o RUN (the TREC run file to write)")
            from babelir.io.topics import read_topics

            queries = read_topics(args.topics)
            if abstainer is None:
                result = pipeline.retrieve(queries, args.k or 100, lang=args.lang, quiet=args.quiet)
            else:
                result, decisions = abstainer.search(queries, args.k or 100, args.lang, args.quiet)
            result.to_trec(args.output, name=run_tag(pipeline))
            write_pipeline(args.output, pipeline)
            if abstainer is not None:
                written = abstainer.write(args.output, decisions)
                print(f"wrote {written}: {abstainer.summary(decisions)}", file=sys.stderr)
            print(f"wrote {args.output}: {len(queries)} queries, {sum(len(v) for v in result.values())} results "
                  f"({pipeline.describe()})", file=sys.stderr)
            from babelir.retrieve.rerank import latency_line

            latency = latency_line(pipeline)  # "" without a rerank stage
            if latency:
                print(f"latency: {latency}", file=sys.stderr)
        else:
            from babelir.present import print_hits

            found = None
            if abstainer is not None:
                from babelir.types import Query

                found, decisions = abstainer.search([Query("q", args.query)], args.k or 10, args.lang, True)
                print(abstainer.verdict(decisions["q"]))
            print_hits(pipeline, args.query, args.k or 10, args.lang, run=found)
    finally:
        if pipeline is not None:
            pipeline.close()
        index.close()
    return 0


def write_pipeline(run_path, pipeline) -> None:
    """The pipeline's spec, one line, beside the run: ``RUN.pipeline`` (written atomically)."""
    import os
    from pathlib import Path

    path = Path(f"{run_path}.pipeline")
    partial = path.with_name(path.name + ".partial")
    partial.write_text(pipeline.describe() + "\n", encoding="utf-8")
    os.replace(partial, path)
