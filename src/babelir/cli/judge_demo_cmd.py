"""``babelir judge demo [-o QUICKSTART_DIR]``: a judging project over the quickstart's runs."""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("-o", "--output", default="babelir-quickstart",
                   help="the quickstart directory (made when missing); the project goes to OUTPUT/judging")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args) -> int:
    from babelir.judge.demo import judge_demo

    judge_demo(args.output, quiet=args.quiet)
    return 0
