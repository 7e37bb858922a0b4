"""``babelir quickstart [-o DIR]``"""

from __future__ import annotations

from babelir.cli.argtypes import output_dir


def register(p) -> None:
    p.add_argument("-o", "--output", default="babelir-quickstart", type=output_dir,
                   help="directory for the demo collection, index and run (default ./babelir-quickstart)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from babelir.quickstart import quickstart

    quickstart(args.output, quiet=args.quiet)
    return 0
