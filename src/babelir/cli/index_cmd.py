"""``babelir index CORPUS -o INDEX [--lang LANG|auto] [--skip-bad]``"""

from __future__ import annotations

from babelir.cli.argtypes import fraction, language, non_negative_float, output_dir, positive_int


def ray_address(text: str) -> str:
    """``--ray``'s value; a path that exists is refused: ``--ray`` before the corpus takes the corpus
    as its address."""
    import argparse
    import os

    if os.path.exists(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a Ray address: put --ray after the corpus "
                                         "(babelir index CORPUS -o INDEX --ray)")
    return text


def register(p) -> None:
    p.add_argument("corpus", help="JSONL(.gz) corpus or BEIR directory")
    p.add_argument("-o", "--output", required=True, metavar="INDEX", type=output_dir,
                   help="index directory: created (with missing parents), or an existing index extended; "
                        "any other non-empty directory is refused")
    p.add_argument("--lang", default="auto", type=language,
                   help="language of documents that carry none: a code (th, tha) or 'auto' to detect (default)")
    p.add_argument("--skip-bad", action="store_true", help="skip bad records and count them instead of stopping")
    p.add_argument("--k1", type=non_negative_float, default=None,
                   help="BM25 k1 stored in a new index (default 0.9; an existing index keeps its own)")
    p.add_argument("--b", type=fraction, default=None,
                   help="BM25 b stored in a new index (default 0.4; an existing index keeps its own)")
    p.add_argument("--analyzer", default=None, choices=["language-aware", "script-aware", "subword", "language-aware+subword"],
                   help="analysis for a new index (default language-aware; see `babelir analyzers`); "
                        "subword trains a SentencePiece model on the corpus; language-aware+subword indexes both")
    p.add_argument("--subword-vocab", type=positive_int, default=32_000, help="pieces in the subword model (default 32000)")
    p.add_argument("--stopwords", action="store_true", help="remove stopwords (stopwordsiso) in a new index")
    p.add_argument("--no-lemmatize", action="store_true",
                   help="in a new index, stem words without first replacing them by their lemma (simplemma)")
    p.add_argument("--no-pieces", action="store_true",
                   help="in a new index, index words only, without the mE5 subword pieces of the text")
    p.add_argument("--segmenter", action="append", default=[], metavar="LANG=NAME",
                   help="segmenter for a language in a new index, e.g. zh=jieba (repeatable)")
    p.add_argument("--dense", action="store_true", help="also store dense vectors (multilingual embeddings)")
    p.add_argument("--sparse", action="store_true", help="also store learned sparse vectors (the encoder's latent terms)")
    p.add_argument("--ann", action="store_true",
                   help="with --dense: also build HNSW graphs (FAISS) for approximate search; "
                        "`babelir search --exact` bypasses them")
    p.add_argument("--encoder", default="e5-small", help="encoder for --dense / --sparse: e5-small (default, bundled), hf:DIR "
                        "(transformers model directory) or st:DIR (sentence-transformers); --sparse needs e5-small")
    p.add_argument("--batch-size", type=positive_int, default=None,
                   help="documents per commit (default 10000, or 1000 with --dense)")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="processes that analyse batches of 2000 documents or more while the previous batch "
                        "commits (default: one per CPU, at most 8; never more than the CPUs; 1: analyse in "
                        "this process)")
    p.add_argument("--no-merge", action="store_true",
                   help="leave the postings segments as committed (default: merge those this build wrote "
                        "into as few as possible, which makes searches faster and the index smaller)")
    p.add_argument("--wait", type=non_negative_float, default=0.0, metavar="SECONDS",
                   help="when another process is writing the index, wait up to SECONDS for it to finish "
                        "(default 0: stop at once with an error)")
    p.add_argument("--backend", default=None, metavar="local|milvus:PATH.db|milvus://HOST:PORT",
                   help="also mirror the index into a Milvus collection that searches then go through: "
                        "milvus:PATH.db (milvus-lite, embedded) or milvus://HOST:PORT (a Milvus server); "
                        "default: the one the index records, if any (docs/scale.md)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS|auto", type=ray_address,
                   help="analyse and encode on a Ray cluster, committing here in corpus order: no value starts "
                        "a local Ray instance; auto joins the cluster `ray start` runs on this machine; "
                        "HOST:PORT or ray://HOST:PORT names its head (pip install 'babelir[ray]'; docs/scale.md)")
    p.add_argument("--ray-workers", type=positive_int, default=None, metavar="N",
                   help="with --ray: Ray actors that analyse and encode (default: one per CPU of the cluster)")
    p.add_argument("--ray-gpus", type=non_negative_float, default=0.0, metavar="G",
                   help="with --ray: GPUs each actor reserves (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from babelir.index.bm25 import BM25Params
    from babelir.index.build import build_index

    from babelir.errors import BabelirError

    backend = None
    if args.backend is not None:
        from babelir.index.milvus import parse_backend

        backend = parse_backend(args.backend) or {"kind": "local"}  # local: refused for a mirrored index
    if args.ann and not args.dense:
        raise BabelirError("--ann needs --dense (the graphs index the dense vectors)")
    encoder = None
    if args.dense or args.sparse:
        from babelir.encode.base import get_encoder

        encoder = get_encoder(args.encoder)
    params = None
    if args.k1 is not None or args.b is not None:  # given: stored in a new index, checked against an existing one
        default = BM25Params()
        params = BM25Params(default.k1 if args.k1 is None else args.k1, default.b if args.b is None else args.b)
    analysis_given = (args.analyzer is not None or args.stopwords or args.segmenter or args.no_lemmatize
                      or args.no_pieces)
    analyzer = None
    if analysis_given:
        analyzer = make_analyzer(args.analyzer or "language-aware", args.stopwords, args.segmenter,
                                 lemmatize=not args.no_lemmatize, pieces=not args.no_pieces)
    summary = build_index(args.corpus, args.output, lang=args.lang, skip_bad=args.skip_bad,
                          batch_size=args.batch_size or (1000 if encoder else 10_000), encoder=encoder,
                          dense=args.dense, sparse=args.sparse, params=params, quiet=args.quiet,
                          analyzer=analyzer, subword_vocab=args.subword_vocab, ann=args.ann, wait=args.wait,
                          backend=backend, ray=_ray_options(args), workers=args.workers,
                          merge=not args.no_merge)
    print("\n".join(summary.lines()))
    return 0


def _ray_options(args):
    """The --ray options as :class:`babelir.index.ray_build.RayOptions`, or None without --ray."""
    from babelir.errors import BabelirError

    if args.ray is None:
        if args.ray_workers is not None or args.ray_gpus:
            raise BabelirError("--ray-workers and --ray-gpus apply with --ray")
        return None
    if args.workers is not None:
        raise BabelirError("--workers applies without --ray (with --ray, --ray-workers sets the Ray actors)")
    from babelir.index.ray_build import RayOptions, require_ray

    require_ray()  # a missing extra is said before any work
    return RayOptions(args.ray, workers=args.ray_workers, gpus=args.ray_gpus)


def make_analyzer(name: str, stopwords: bool = False, segmenters: list[str] = (), lemmatize: bool = True,
                  pieces: bool = True):
    """The analyzer the options ask for (``LANG=NAME`` segmenter pairs, stopwords, lemmatisation and
    mE5 pieces apply to language-aware)."""
    from babelir.errors import BabelirError
    from babelir.text.analyzer import get_analyzer
    from babelir.types import normalize_lang

    if name in ("script-aware", "subword", "language-aware+subword"):
        if stopwords or segmenters or not lemmatize or not pieces:
            raise BabelirError("--stopwords, --segmenter, --no-lemmatize and --no-pieces apply to the "
                               "language-aware analyzer")
        return get_analyzer(name) if name == "script-aware" else name
    pairs = {}
    for item in segmenters:
        lang, sep, segmenter = item.partition("=")
        if not sep:
            raise BabelirError(f"--segmenter expects LANG=NAME, got {item!r}")
        pairs[normalize_lang(lang)] = segmenter
    return get_analyzer(name, stopwords=stopwords, segmenters=pairs, lemmatize=lemmatize, pieces=pieces)
