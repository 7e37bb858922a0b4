"""``babelir analyze [text] --lang th "…"``, ``babelir analyze semantic-tokens MODEL --ratios … -o DIR``
and ``babelir analyze groups MODEL WORD…``.

``babelir analyze "…"`` (no subcommand) means ``babelir analyze text "…"``: :func:`route` inserts it.
"""

from __future__ import annotations

from babelir.cli.argtypes import language, non_negative_int, output_dir, output_file, positive_int

SUBCOMMANDS = ("text", "semantic-tokens", "groups")


def route(argv: list[str]) -> list[str]:
    """``analyze X …`` → ``analyze text X …`` unless X is a subcommand or asks for help."""
    if len(argv) >= 2 and argv[0] == "analyze" and argv[1] not in SUBCOMMANDS + ("-h", "--help"):
        return [argv[0], "text", *argv[1:]]
    return argv


def register(p) -> None:
    sub = p.add_subparsers(dest="analyze_command", metavar="SUBCOMMAND", required=True)
    text = sub.add_parser("text", help="print the terms the analyzer makes of a text (the default)")
    text.add_argument("text", help="the text to analyse")
    text.add_argument("--lang", default="auto", type=language, help="language code, or 'auto' to detect it (default)")
    text.add_argument("--analyzer", default="language-aware", choices=["language-aware", "script-aware"])
    text.add_argument("--stopwords", action="store_true", help="remove stopwords")
    text.add_argument("--no-lemmatize", action="store_true", help="stem without lemmatising first")
    text.add_argument("--no-pieces", action="store_true", help="words only, without the mE5 subword pieces")

    tokens = sub.add_parser("semantic-tokens", help="group a model's vocabulary into semantic tokens; "
                                                    "write and evaluate a compressed model per ratio")
    tokens.add_argument("model", help="hf:DIR (e.g. from `babelir model export-e5`) or static:DIR "
                                       "(from `babelir model distill-static`)")
    tokens.add_argument("--ratios", default="0.05,0.1,0.2,0.4",
                        help="fractions of the vocabulary to keep, comma-separated (default 0.05,0.1,0.2,0.4)")
    tokens.add_argument("-o", "--output", required=True, type=output_dir, help="directory for the compressed models and the report")
    tokens.add_argument("--xquadr", help="XQuAD-R directory to evaluate on (default: ../shared/data/xquad-r "
                                         "beside the working directory, if there)")
    tokens.add_argument("--langs", help="XQuAD-R languages, comma-separated (default: all 11)")
    tokens.add_argument("--iterations", type=positive_int, default=10, help="K-means iterations (default 10)")
    tokens.add_argument("--seed", type=non_negative_int, default=0)
    tokens.add_argument("--no-pool", action="store_true", help="skip the multilingual pool's MAP")
    tokens.add_argument("--weighting", choices=["auto", "none", "frequency"], default="auto",
                        help="frequency: the clustering and each group's mean are weighted by the tokens' unigram "
                             "probabilities; none: every token counts alike; auto (default): frequency when the "
                             "tokenizer has Unigram scores, else none")
    tokens.add_argument("--groups-from", metavar="DIR", help="reuse the groups of an earlier run's output "
                                                             "(e.g. a static table grouped as its hf: teacher)")

    groups = sub.add_parser("groups", help="the members of the semantic-token groups of words, across scripts")
    groups.add_argument("model", help="a compressed model directory (OUT/ratio-R of semantic-tokens)")
    groups.add_argument("words", nargs="+", metavar="WORD")
    groups.add_argument("--limit", type=positive_int, default=40, help="members shown per group (default 40)")
    groups.add_argument("--plot", type=output_file, help="write a PNG: the word's 50 nearest tokens in the full model, "
                                       "projected to 2-D and coloured by group")


def run(args) -> int:
    return {"text": _text, "semantic-tokens": _semantic_tokens, "groups": _groups}[args.analyze_command](args)


def _text(args) -> int:
    from babelir.cli.index_cmd import make_analyzer
    from babelir.types import normalize_lang

    lang = args.lang
    if lang == "auto":
        from babelir.text.langid import ambiguity_note, detect

        lang = detect(args.text)
        note = ambiguity_note(lang) if lang != "und" else "too little text to tell; --lang to choose"
        print(f"# detected language: {lang}" + (f" ({note})" if note else ""))
    else:
        lang = normalize_lang(lang)
    analyzer = make_analyzer(args.analyzer, args.stopwords, lemmatize=not args.no_lemmatize,
                             pieces=not args.no_pieces)
    print(" ".join(analyzer.analyze(args.text, lang)))
    return 0


def _semantic_tokens(args) -> int:
    from pathlib import Path

    from babelir.analysis.semantic_curve import format_or_dash, run_semantic_tokens, summary_rows
    from babelir.errors import BabelirError
    from babelir.io.xquadr import XQUADR_LANGS

    try:
        ratios = [float(r) for r in args.ratios.split(",") if r.strip()]
    except ValueError:
        raise BabelirError(f"--ratios {args.ratios!r}: expected numbers like 0.05,0.1,0.2") from None
    if not ratios or any(not 0 < r < 1 for r in ratios):
        raise BabelirError(f"--ratios {args.ratios!r}: each ratio must be between 0 and 1")
    xquadr = Path(args.xquadr) if args.xquadr else Path.cwd().parent / "shared/data/xquad-r"
    if not (xquadr / "en.json").exists():
        raise BabelirError(f"{xquadr}: no XQuAD-R files here; give --xquadr DIR")
    langs = tuple(x.strip() for x in args.langs.split(",")) if args.langs else XQUADR_LANGS
    results = run_semantic_tokens(args.model, ratios, args.output, xquadr, langs, iterations=args.iterations,
                                  seed=args.seed, pool=not args.no_pool, groups_from=args.groups_from,
                                  weighting=args.weighting)
    print("fraction   tokens  model MB  nDCG@10  kept    pool MAP  pool kept  multi-script groups")
    for row in summary_rows(results):
        tokens = format(row["groups"], ",") if row["groups"] else "all"
        print(f"{row['ratio']:<9} {tokens:>7}  {format_or_dash(row['model MB'], '.0f'):>8}  "
              f"{row['nDCG@10']:.4f}  {row['kept']:6.1%}  {format_or_dash(row['pool MAP'], '.4f'):>8}  "
              f"{format_or_dash(row['pool kept'], '.1%'):>9}  {format_or_dash(row['multi-script groups'], '.1%'):>8}")
    print(f"\nwritten: {args.output}/semantic_tokens.md, semantic_tokens.png, semantic_tokens.json")
    return 0


def _groups(args) -> int:
    from babelir.analysis.semantic_tokens import group_members, multi_script_summary

    for group in group_members(args.model, args.words, args.limit):
        print(f"{group.word}  token {group.piece}  group {group.group}  ({group.size} members; "
              f"scripts: {', '.join(group.scripts) or '-'})")
        print("  " + " ".join(group.members))
    share, total = multi_script_summary(args.model)
    print(f"\ngroups with 2+ members spanning several scripts: {share:.1%} of {total:,}")
    if args.plot:
        from babelir.analysis.semantic_plot import neighbourhood_png

        print(f"written: {neighbourhood_png(args.model, args.words[0], args.plot)}")
    return 0
