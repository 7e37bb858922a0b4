"""``babelir judge export PROJECT -o qrels.trec [--aggregate majority|mean|max|first] [--min-grade G]``"""

from __future__ import annotations

from babelir.cli.argtypes import non_negative_int, output_file


def register(p) -> None:
    p.add_argument("project", help="the judging project directory")
    p.add_argument("-o", "--output", required=True, type=output_file, help="the TREC qrels file to write")
    p.add_argument("--aggregate", choices=("majority", "mean", "max", "first"), default="majority",
                   help="one grade from several assessors' (default majority; a tie takes the lower grade)")
    p.add_argument("--min-grade", type=non_negative_int, default=None, help="write grades below this as 0")
    p.add_argument("--assessor", default=None,
                   help="export one assessor's judgments alone (e.g. a model's: model:e5) instead of the people's")


def run(args) -> int:
    from babelir.judge.export import export_qrels

    count = export_qrels(args.project, args.output, args.aggregate, args.min_grade, args.assessor)
    print(f"wrote {count} judgments to {args.output}")
    return 0
