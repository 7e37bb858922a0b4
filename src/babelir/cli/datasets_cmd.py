"""``babelir datasets xquad-r SRC -o OUT`` and ``babelir datasets parallel SRC TGT -o OUT``"""

from __future__ import annotations


def register(p) -> None:
    sub = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    xq = sub.add_parser("xquad-r", help="XQuAD-R: every language and the multilingual pool")
    xq.add_argument("source", help="directory with XQuAD-R's <lang>.json files")
    xq.add_argument("-o", "--output", required=True, help="output directory")
    par = sub.add_parser("parallel", help="two line-aligned files as a bitext retrieval collection")
    par.add_argument("source", help="source-language file: its lines are the queries")
    par.add_argument("target", help="target-language file: its lines are the documents")
    par.add_argument("-o", "--output", required=True, help="output directory")
    par.add_argument("--source-lang", help="language of the source file")
    par.add_argument("--target-lang", help="language of the target file")


def run(args) -> int:
    if args.dataset == "xquad-r":
        from babelir.io.xquadr import load_xquadr

        per_lang, pool = load_xquadr(args.source)
        for lang, collection in {**per_lang, "pool": pool}.items():
            directory = collection.write(f"{args.output}/{lang}")
            print(f"{directory}: {len(collection.docs)} documents, {len(collection.queries)} queries, "
                  f"{len(collection.qrels)} judgements")
    else:
        from babelir.io.parallel import load_parallel

        collection = load_parallel(args.source, args.target, args.source_lang, args.target_lang)
        collection.write(args.output)
        print(f"{args.output}: {len(collection.docs)} documents, {len(collection.queries)} queries")
    return 0
