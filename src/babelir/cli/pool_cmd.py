"""``babelir pool RUN... -o PROJECT --depth 10 [--topics TOPICS] [--index INDEX] [--order rrf|rank|random]``"""

from __future__ import annotations

from babelir.cli.argtypes import fraction, non_negative_int, positive_int


def register(p) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="TREC run files to pool")
    p.add_argument("-o", "--output", required=True, metavar="PROJECT",
                   help="the judging project directory (made when new; runs are added to an existing one)")
    p.add_argument("--depth", type=positive_int, default=10, help="each run's top documents per query (default 10)")
    p.add_argument("--topics", help="the queries' texts (TSV or JSONL); needed for queries new to the project")
    p.add_argument("--index", help="the index the runs searched: documents' texts and languages (needed once)")
    p.add_argument("--order", choices=("rrf", "rank", "random"), default="rrf",
                   help="judging order within a query: rrf (documents many runs rank high first; default), "
                        "rank (best rank first) or random (seeded)")
    p.add_argument("--max-per-query", type=positive_int, default=None,
                   help="judging budget: at most this many pairs per query, first in --order")
    p.add_argument("--scale", choices=("graded", "binary"), default=None,
                   help="grades: graded 0-3 (default) or binary 0-1; fixed when the project is made")
    p.add_argument("--overlap", type=fraction, default=None,
                   help="share of pairs judged by two people, for agreement (default 0.1)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of --order random")


def run(args) -> int:
    from babelir.judge.pool import pool

    stats = pool(args.output, args.runs, depth=args.depth, topics=args.topics, index=args.index, order=args.order,
                 max_per_query=args.max_per_query, scale=args.scale, overlap=args.overlap, seed=args.seed)
    print(f"pooled {len(args.runs)} run(s) at depth {args.depth} into {args.output}; by query language:")
    print(stats.table())
    print(f"\nnext: babelir judge assessor add {args.output} NAME --langs xx,yy   (once per assessor)\n"
          f"      babelir judge serve {args.output}")
    return 0
