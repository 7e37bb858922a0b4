"""``babelir judge status PROJECT``: progress, assessors' pace and grades, agreement, models vs people."""

from __future__ import annotations


def register(p) -> None:
    p.add_argument("project", help="the judging project directory")


def run(args) -> int:
    from babelir.judge.project import Project
    from babelir.judge.status import status_report

    from babelir.errors import BabelirError

    with Project.open(args.project) as project:
        try:
            report = status_report(project)
        except ImportError as exc:  # the agreement statistics' libraries: the judge extra
            raise BabelirError(f"babelir judge status needs scikit-learn, statsmodels and krippendorff "
                               f"({exc.name} is missing): pip install 'babelir[judge]'") from None
    print(report)
    return 0
