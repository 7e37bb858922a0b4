"""``babelir eval-abstain RUN --qrels QRELS [--abstain FILE] [--plots DIR] [--json FILE] [--min-queries N]``"""

from __future__ import annotations

from babelir.cli.argtypes import positive_int


def register(p) -> None:
    p.add_argument("run", help="TREC run file (searched with --abstain)")
    p.add_argument("--qrels", required=True, help="TREC or BEIR TSV qrels (or a BEIR directory); grade > 0 is relevant")
    p.add_argument("--abstain", metavar="FILE",
                   help="the decisions: JSON written by babelir search --abstain (default: RUN.abstain.json)")
    p.add_argument("--plots", metavar="DIR",
                   help="write DIR/tradeoff.png (hallucination vs error rate per language as the threshold on p "
                        "sweeps) and DIR/reliability.png (reliability diagram of p per language)")
    p.add_argument("--json", metavar="FILE", help="also write the table as JSON: {lang: {measure: value}} (null: n/a)")
    p.add_argument("--min-queries", type=positive_int, default=10, metavar="N",
                   help="note a language with fewer than N queries with, or without, an answer (default: 10)")


def run(args) -> int:
    import sys
    from pathlib import Path

    from babelir.evaluate.abstention import (abstention_report, found_labels, read_abstain_file, report_json,
                                             report_table, tradeoff_curve)
    from babelir.io.qrels import read_qrels
    from babelir.run import Run

    abstain_path = args.abstain or f"{args.run}.abstain.json"
    if args.plots and Path(args.plots).exists() and not Path(args.plots).is_dir():
        from babelir.errors import BabelirError

        raise BabelirError(f"--plots {args.plots}: not a directory (the PNGs go into a directory)")
    file = read_abstain_file(abstain_path)
    result = Run.from_trec(args.run)
    qrels = read_qrels(args.qrels)

    def note(text):
        print(f"babelir eval-abstain: note: {text}", file=sys.stderr)

    decisions = file.decisions
    skipped = _skipped(abstain_path)
    if skipped:
        note(f"{len(skipped)} queries were left out of {abstain_path} (malformed LLM replies, --skip-bad) and are "
             f"not counted, with or without an answer (first: {skipped[0]})")
    judged = {q.query_id for q in qrels}
    if judged and not judged & decisions.keys():
        from babelir.errors import BabelirError

        raise BabelirError(f"{args.qrels}: judges none of the {len(decisions)} queries of {abstain_path} "
                           "(qrels of other topics?)")
    left_out = judged - decisions.keys()
    if left_out:
        note(f"{len(left_out)} queries of the qrels are not in {abstain_path} (not counted)")
    absent = [q for q in decisions if q not in result]
    if absent:
        note(f"{len(absent)} queries of {abstain_path} have no results in the run (counted as nothing found)")
    if file.inconsistent:
        note(f"{len(file.inconsistent)} decisions of {abstain_path} disagree with p >= threshold (first: "
             f"{file.inconsistent[0]}); the decisions are evaluated as written")
    report = abstention_report(result, qrels, decisions, file.k, min_queries=args.min_queries)
    print(report_table(report, file.k))
    few = [lang for lang, row in report.items() if row["few_queries"]]
    if few:
        print(f"* few queries: {', '.join(few)} (fewer than {args.min_queries} with or without an answer: "
              f"the rates are uncertain)")
    if args.json:
        from babelir.io.atomic import atomic_write_json

        atomic_write_json(args.json, report_json(report))
        print(f"wrote {args.json}")
    if args.plots:
        from babelir.evaluate.abstention_plot import plot_reliability, plot_tradeoff

        directory = Path(args.plots)
        for written in (plot_tradeoff(tradeoff_curve(result, qrels, decisions, file.k), directory / "tradeoff.png", file.k),
                        plot_reliability(found_labels(result, qrels, decisions, file.k), directory / "reliability.png",
                                         file.k)):
            print(f"wrote {written}")
    return 0


def _skipped(path) -> list[str]:
    """The queries an abstain file says it left out (``skipped``, written by babelir abstain llm)."""
    import json
    from pathlib import Path

    try:
        skipped = json.loads(Path(path).read_text(encoding="utf-8")).get("skipped") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(q) for q in skipped] if isinstance(skipped, list) else []
