"""``babelir datasets xquad-r SRC -o OUT [--cross X:Y …] [--no-answer-split]`` and ``babelir datasets parallel SRC TGT -o OUT``"""

from __future__ import annotations

from babelir.cli.argtypes import output_dir


def register(p) -> None:
    sub = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    xq = sub.add_parser("xquad-r", help="XQuAD-R: every language and the multilingual pool")
    xq.add_argument("source", help="directory with XQuAD-R's <lang>.json files")
    xq.add_argument("-o", "--output", required=True, type=output_dir,
                    help="output directory: new, empty, or an earlier output of this command")
    xq.add_argument("--cross", action="append", metavar="X:Y",
                    help="instead, cross-lingual tasks: X's questions against Y's sentences (OUT/X-Y); "
                         "repeatable or comma-separated; '*' is every other language (en:*, *:en); 'all' every pair")
    xq.add_argument("--no-answer-split", action="store_true",
                    help="NoMIRACL-style collections with and without an answer: in each article every second "
                         "paragraph is removed (its sentences leave the collection, in every language); its questions "
                         "form the non-relevant subset, the others the relevant subset. Each collection (OUT/<lang>, "
                         "OUT/pool, or OUT/X-Y with --cross) adds "
                         "subsets.tsv (query_id, subset relevant|non-relevant, part train|test), topics.train.tsv "
                         "and topics.test.tsv (all questions of the train / test articles); topics.tsv holds all "
                         "questions, qrels*.trec only the relevant subset's")
    par = sub.add_parser("parallel", help="two line-aligned files as a bitext retrieval collection")
    par.add_argument("source", help="source-language file: its lines are the queries")
    par.add_argument("target", help="target-language file: its lines are the documents")
    par.add_argument("-o", "--output", required=True, type=output_dir,
                     help="output directory: new, empty, or an earlier output of this command")
    par.add_argument("--source-lang", help="language of the source file")
    par.add_argument("--target-lang", help="language of the target file")


def run(args) -> int:
    from babelir.io.collection import check_collection_dir, check_collections_dir

    # refused before the (long) reading: an output directory that holds anything but earlier output
    (check_collections_dir if args.dataset == "xquad-r" else check_collection_dir)(args.output)
    if args.dataset == "xquad-r" and args.no_answer_split:
        from babelir.io.xquadr import parse_pairs
        from babelir.io.xquadr_noanswer import write_no_answer

        for line in write_no_answer(args.source, args.output, parse_pairs(args.cross) if args.cross else None):
            print(line)
    elif args.dataset == "xquad-r":
        from babelir.io.xquadr import load_cross, load_xquadr, paragraph_articles, parse_pairs, write_split_qrels

        if args.cross:
            pairs = parse_pairs(args.cross)
            collections = {f"{x}-{y}": task for (x, y), task in load_cross(args.source, pairs).items()}
        else:
            per_lang, pool = load_xquadr(args.source)
            collections = {**per_lang, "pool": pool}
        titles = paragraph_articles(args.source, "en" if args.cross is None else pairs[0][1])
        for name, collection in collections.items():
            directory = collection.write(f"{args.output}/{name}")
            parts = write_split_qrels(collection, titles, directory)
            print(f"{directory}: {len(collection.docs)} documents, {len(collection.queries)} queries "
                  f"({parts['train']} train, {parts['test']} test articles), {len(collection.qrels)} judgments")
    else:
        from babelir.io.parallel import load_parallel

        collection = load_parallel(args.source, args.target, args.source_lang, args.target_lang)
        collection.write(args.output)
        print(f"{args.output}: {len(collection.docs)} documents, {len(collection.queries)} queries")
    return 0
