"""``babelir judge status PROJECT``: progress, assessors' pace and grades, agreement, models vs people."""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("project", help="the judging project directory")


def run(args) -> int:
    from babelir.judge.project import Project
    from babelir.judge.status import status_report

    with Project.open(args.project) as project:
        print(status_report(project))
    return 0
