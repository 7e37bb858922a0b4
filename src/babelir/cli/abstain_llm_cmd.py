"""``babelir abstain llm RUN --index INDEX --topics T --llm URL --model NAME [--key-env VAR] [--k 10] [--gate]
[--abstain FILE] [--skip-bad] [-o OUT]``

Asks an LLM behind an OpenAI-compatible endpoint NoMIRACL's question ("Yes, answer is present" or "I
don't know") over each query's top k passages of RUN, alone or gated by babelir's decisions
(``RUN.abstain.json``), and writes the answers as an abstain file that ``babelir eval-abstain RUN
--qrels Q --abstain OUT`` evaluates (:mod:`babelir.abstain.llm`).
"""

from __future__ import annotations

import sys

from babelir.cli.argtypes import non_negative_int, output_file, positive_float, positive_int

HELP = "NoMIRACL's prompt over a run's top k: an LLM's 'answer present / I don't know', alone or gated by babelir"


def register(p) -> None:
    p.add_argument("run", help="TREC run file (babelir search -o RUN); its top k passages per query are judged")
    p.add_argument("--index", required=True, help="the index the run was searched on (the passages' texts)")
    p.add_argument("--topics", required=True, help="the run's topics (TSV or queries.jsonl): the questions")
    p.add_argument("--llm", required=True, metavar="URL",
                   help="OpenAI-compatible endpoint, e.g. http://localhost:8080/v1 (llama.cpp) or :8000/v1 (vLLM)")
    p.add_argument("--model", required=True, metavar="NAME",
                   help="the endpoint's model name (vLLM: the served model; llama.cpp accepts any)")
    p.add_argument("--key-env", default=None, metavar="VAR",
                   help="environment variable holding the API key (default BABELIR_LLM_API_KEY; none sent when unset)")
    p.add_argument("--k", type=positive_int, default=10, help="passages per prompt, the run's top k (default 10, "
                                                              "as NoMIRACL)")
    p.add_argument("--gate", action="store_true",
                   help="ask the LLM only about the queries babelir marked answerable (RUN.abstain.json); the "
                        "others are 'I don't know' without a call")
    p.add_argument("--abstain", metavar="FILE", default=None,
                   help="babelir's decisions (default RUN.abstain.json): the gate, and the queries' languages")
    p.add_argument("--skip-bad", action="store_true",
                   help="leave out (and count) queries whose reply is neither answer, instead of stopping")
    p.add_argument("--timeout", type=positive_float, default=120.0, help="seconds per request (default 120)")
    p.add_argument("--retries", type=non_negative_int, default=3,
                   help="further attempts after a failed request (default 3)")
    p.add_argument("--max-tokens", type=positive_int, default=64, help="tokens per reply (default 64)")
    p.add_argument("--cache", metavar="FILE", default=None,
                   help="reply cache (SQLite; default $BABELIR_CACHE_DIR/abstain-llm.sqlite)")
    p.add_argument("-o", "--output", type=output_file, default=None, metavar="OUT",
                   help="abstain file to write (default RUN.llm.abstain.json, with --gate RUN.gated.abstain.json)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from pathlib import Path

    from babelir.abstain.llm import ReplyCache, judge_run, write_llm_decisions
    from babelir.errors import BabelirError
    from babelir.evaluate.abstention import read_abstain_file
    from babelir.index.core import Index
    from babelir.io.topics import read_topics
    from babelir.llm.client import DEFAULT_API_KEY_ENV, LLMClient
    from babelir.retrieve.language_gate import analysis_language
    from babelir.run import Run

    run_ = Run.from_trec(args.run)
    if not len(run_):
        raise BabelirError(f"{args.run}: the run holds no query")
    abstain_path = Path(args.abstain or f"{args.run}.abstain.json")
    output = Path(args.output or f"{args.run}.{'gated' if args.gate else 'llm'}.abstain.json")
    if output.resolve() == abstain_path.resolve():
        raise BabelirError(f"{output}: this is babelir's decisions file; write the LLM's elsewhere (-o)")
    babelir_file = read_abstain_file(abstain_path) if args.gate or abstain_path.exists() else None
    topics = {q.id: q for q in read_topics(args.topics)}
    qids = list(run_)
    missing = [q for q in qids if q not in topics]
    if missing:
        raise BabelirError(f"{args.topics}: no topic for {len(missing)} queries of {args.run} (first: {missing[0]!r}; "
                           "the run's topics?)")
    if args.gate and _made_by_llm(abstain_path):
        raise BabelirError(f"{abstain_path}: an LLM's decisions, not babelir's (--gate takes RUN.abstain.json, "
                           "written by babelir search --abstain)")
    if args.gate:
        ungated = [q for q in qids if q not in babelir_file.decisions]
        if ungated:
            raise BabelirError(f"{abstain_path}: no decision for {len(ungated)} queries of {args.run} "
                               f"(first: {ungated[0]!r}; search again with --abstain)")
        if babelir_file.k != args.k:
            print(f"babelir abstain llm: note: {abstain_path} decided about the top {babelir_file.k}, the LLM reads "
                  f"the top {args.k}", file=sys.stderr)

    index = Index.open(args.index)
    try:
        tops = {q: [d for d, _ in run_.ranking(q)[:args.k]] for q in qids}
        stored = index.documents(sorted({d for ids in tops.values() for d in ids}))
        for q, ids in tops.items():
            absent = [d for d in ids if d not in stored]
            if absent:
                raise BabelirError(f"{args.run}: query {q!r}: document {absent[0]!r} is not in {args.index} "
                                   "(the run of another index?)")
        passages = {q: [(stored[d][1] or "", stored[d][2]) for d in ids] for q, ids in tops.items()}
        known = babelir_file.decisions if babelir_file is not None else {}
        langs = {q: known[q].lang if q in known else analysis_language(topics[q], index) for q in qids}
    finally:
        index.close()

    gate = {q: babelir_file.decisions[q].answerable for q in qids} if args.gate else None
    client = LLMClient(args.llm, args.model, api_key_env=args.key_env or DEFAULT_API_KEY_ENV,
                       timeout=args.timeout, retries=args.retries)
    cache = ReplyCache(args.cache)
    try:
        report = judge_run(client, {q: topics[q].text for q in qids}, passages, langs, cache, gate,
                           args.skip_bad, args.max_tokens, args.quiet)
    finally:
        cache.close()
        client.close()
    if not report.decisions:
        raise BabelirError(f"{args.llm}: every reply was malformed ({report.examples[0]}); nothing written")
    write_llm_decisions(output, report, args.k, client.url, args.model,
                        babelir_file.pipeline if babelir_file else None,
                        babelir_file.calibration if babelir_file else None, abstain_path if args.gate else None)
    print(f"{args.model}{' gated by babelir' if args.gate else ''}: {report.summary()}")
    print(f"wrote {output} (evaluate: babelir eval-abstain {args.run} --qrels QRELS --abstain {output})",
          file=sys.stderr)
    return 0


def _made_by_llm(path) -> bool:
    """Whether an abstain file holds an LLM's decisions (written by this command)."""
    import json
    from pathlib import Path

    try:
        return "llm" in json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # read_abstain_file has said what is wrong with it
