"""``babelir judge SUBCOMMAND PROJECT …``: assessors, the judging page, status and agreement, qrels.

Each subcommand is a thin module ``babelir.cli.judge_<name>_cmd`` (``register(parser)``, ``run(args)``).
"""

from __future__ import annotations

SUBCOMMANDS = {  # in the order of the work: make a project, judge, follow, export, check
    "demo": "a judging project over the quickstart's runs, with demo assessors, ready to serve",
    "assessor": "add assessors (name, secret, languages), change their languages, list them",
    "serve": "the judging web page for assessors",
    "status": "progress, each assessor's pace and grades, agreement per language, models against people",
    "export": "write the judgments as TREC qrels that babelir eval reads",
    "prejudge": "label pairs with a model (an LLM endpoint, e5 similarity or a local cross-encoder) as a marked assessor",
    "compare-qrels": "Kendall tau between system rankings under two qrels (e.g. a model's and the people's)",
    "simulate": "answer the pool from known qrels with a given error rate, to check the loop without people",
}


def register(p) -> None:
    from babelir.cli import add_commands

    add_commands(p, "judge_subcommand", SUBCOMMANDS, "babelir.cli.judge_", "judge_run")


def run(args) -> int:
    return args.judge_run(args)
