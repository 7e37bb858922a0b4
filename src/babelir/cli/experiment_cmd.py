"""``babelir experiment transfer --config FILE [--langs en,ar,zh,th] [-o DIR]``"""

from __future__ import annotations

import sys

from babelir.cli.argtypes import output_dir


def register(p) -> None:
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)
    transfer = sub.add_parser("transfer", help="fine-tune on each language's XQuAD-R training split, evaluate on "
                                               "every language's test split: the transfer matrix",
                              description="Cross-lingual transfer matrix on XQuAD-R (nDCG@10 table, JSON, heatmap).")
    transfer.add_argument("--config", required=True, help="YAML: model, xquadr, langs, output, train: {settings}")
    transfer.add_argument("--langs", help="override the config's languages (comma-separated)")
    transfer.add_argument("-o", "--output", type=output_dir, help="override the config's output directory")
    transfer.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args) -> int:
    from pathlib import Path

    from babelir.train.transfer import load_transfer_config, run_transfer

    config = load_transfer_config(args.config, {"langs": args.langs, "output": args.output})

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    run_transfer(config, log=log, quiet=args.quiet)
    print((Path(config.output) / "transfer.md").read_text(encoding="utf-8"))
    print(f"heatmap: {config.output}/transfer.png")
    return 0
