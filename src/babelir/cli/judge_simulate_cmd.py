"""``babelir judge simulate PROJECT --qrels QRELS [--noise 0.1] [--assessors 2] [--seed 0] [--limit N]``

Simulated assessors ``sim-1``, ``sim-2``, … answer the pool from known qrels through the judging
page's own hot path (:mod:`babelir.judge.simulate`).
"""

from __future__ import annotations

from babelir.cli.argtypes import fraction, non_negative_int, positive_int

DESCRIPTION = ("Answer the project's pairs from known qrels, as people would in the browser, to check the "
               "judging loop (pool, assignment, agreement sample, export) without people. Adds assessors "
               "sim-1, sim-2, ... of kind 'person' (every language): export, status and agreement count "
               "them as people, so use a copy of a real project. A second run reuses them and continues.")


def register(p) -> None:
    p.description = DESCRIPTION
    p.add_argument("project", help="the judging project directory")
    p.add_argument("--qrels", required=True,
                   help="known qrels (TREC or BEIR TSV); a pair they do not name is graded 0; queries they name "
                        "that the project lacks are counted and ignored")
    p.add_argument("--noise", type=fraction, default=0.1,
                   help="probability that a judgment is another grade of the scale, drawn uniformly (default 0.1)")
    p.add_argument("--assessors", type=positive_int, default=2,
                   help="simulated assessors, judging in turn (default 2: the agreement sample gets two)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the error draws (default 0)")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="make at most N judgments (default: until no pair is left)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from babelir.io.qrels import read_qrels
    from babelir.judge.project import Project
    from babelir.judge.simulate import simulate

    qrels = read_qrels(args.qrels)
    with Project.open(args.project) as project:
        result = simulate(project, qrels, noise=args.noise, assessors=args.assessors, seed=args.seed,
                          limit=args.limit, quiet=args.quiet, source=args.qrels)
    print(result.summary())
    return 0
