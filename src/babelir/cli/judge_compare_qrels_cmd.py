"""``babelir judge compare-qrels QRELS_A QRELS_B RUN... [--measure nDCG@10]``, or
``babelir judge compare-qrels --project PROJECT --model model:NAME RUN...`` (the people's qrels as A,
the model's as B): Kendall tau between the system rankings the two qrels give."""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="QRELS_A QRELS_B RUN RUN... (with --project: RUN RUN... only)")
    p.add_argument("--measure", default="nDCG@10", help="the measure systems are ranked by (default nDCG@10)")
    p.add_argument("--project", default=None, help="take the qrels from this judging project: the people's as A")
    p.add_argument("--model", default=None, help="with --project: the model assessor whose qrels are B (model:NAME)")
    p.add_argument("--aggregate", choices=("majority", "mean", "max", "first"), default="majority",
                   help="with --project: one grade from several people's (default majority)")


def run(args) -> int:
    from babelir.errors import BabelirError
    from babelir.io.qrels import read_qrels
    from babelir.judge.compare import compare_qrels, format_comparison, run_names
    from babelir.run import Run

    if (args.project is None) != (args.model is None):
        raise BabelirError("--project and --model go together (e.g. --project proj --model model:e5)")
    if args.project is not None:
        from babelir.judge.export import project_qrels
        from babelir.judge.project import MODEL_PREFIX, Project

        model = args.model if args.model.startswith(MODEL_PREFIX) else MODEL_PREFIX + args.model
        with Project.open(args.project) as project:
            kind, _ = project.require_assessor(model)
            if kind != "model":
                raise BabelirError(f"{model!r} is not a model assessor")
            qrels_a = project_qrels(project, args.aggregate)
            qrels_b = project_qrels(project, args.aggregate, assessor=model)
        if not qrels_a:
            raise BabelirError(f"{args.project}: no person has judged anything yet")
        if not qrels_b:
            raise BabelirError(f"{args.project}: {model} has labelled nothing yet (babelir judge prejudge)")
        labels = (f"{args.project}: the people's judgments", f"{args.project}: {model}")
        run_paths = args.files
    else:
        if len(args.files) < 2:
            raise BabelirError("give QRELS_A QRELS_B and at least 2 runs (or --project PROJECT --model model:NAME)")
        qrels_a, qrels_b = read_qrels(args.files[0]), read_qrels(args.files[1])
        labels = (args.files[0], args.files[1])
        run_paths = args.files[2:]
    if len(run_paths) < 2:
        raise BabelirError(f"comparing system rankings needs at least 2 runs, got {len(run_paths)}")
    runs = {name: Run.from_trec(path) for name, path in zip(run_names(run_paths), run_paths)}
    print(format_comparison(compare_qrels(qrels_a, qrels_b, runs, args.measure), *labels))
    return 0
