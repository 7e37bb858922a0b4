"""``babelir probes --xquadr DIR [--encoder e5-small] [--model hf:DIR] -o DIR``"""

from __future__ import annotations

from babelir.cli.argtypes import output_dir


def register(p) -> None:
    p.add_argument("--xquadr", required=True, help="XQuAD-R directory: its sentence pool and aligned questions")
    p.add_argument("--langs", help="languages to probe, comma-separated (default: all 11)")
    p.add_argument("--encoder", default="e5-small", help="encoder to probe (e5-small, hf:DIR, st:DIR, static:DIR)")
    p.add_argument("--model", help="hf:DIR whose input token embeddings to probe (e.g. from model export-e5)")
    p.add_argument("-o", "--output", required=True, type=output_dir, help="directory for probes.txt and projection.png")


def run(args) -> int:
    from pathlib import Path

    from babelir.analysis.probes import run_probes
    from babelir.encode.base import get_encoder
    from babelir.encode.hf_encoder import hf_model_dir
    from babelir.io.xquadr import XQUADR_LANGS, load_xquadr

    langs = tuple(x.strip() for x in args.langs.split(",")) if args.langs else XQUADR_LANGS
    _, pool = load_xquadr(args.xquadr, langs)
    model = hf_model_dir(args.model) if args.model else None
    report = run_probes(pool.docs, pool.queries, get_encoder(args.encoder), Path(args.output), model)
    print("\n".join(report.lines()))
    print(f"\nwritten: {args.output}/probes.txt, {args.output}/projection.png")
    return 0
