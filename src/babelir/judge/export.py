"""Qrels from a project's judgments: one grade per judged pair, written as TREC qrels.

Only graded judgments count: unjudged pairs, skips and "can't judge" are left out (an unjudged
document is *unknown*, not non-relevant: bpref, Judged@k and condensed lists treat it so). Where
several assessors graded a pair, ``aggregate`` decides:

- ``majority``: the most frequent grade; a tie goes to the lower grade (the cautious reading);
- ``mean``: the mean grade, rounded half up;
- ``max``: the highest grade (lenient: relevant if anyone found it so);
- ``first``: the first assessor's grade, as TREC keeps the primary assessor's.

By default the people's judgments are exported; ``assessor`` exports one assessor's alone (e.g. a
model assessor ``model:e5``, to compare qrels). ``min_grade`` writes grades below it as 0.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from babelir.errors import BabelirError
from babelir.judge.project import Project
from babelir.types import Qrel

AGGREGATES = ("majority", "mean", "max", "first")


def aggregate_grades(grades: list[int], how: str) -> int:
    """One grade of several (in judgment order).

    >>> aggregate_grades([1, 2, 2], "majority"), aggregate_grades([1, 2], "majority")
    (2, 1)
    >>> aggregate_grades([1, 2], "mean"), aggregate_grades([0, 3, 3], "max"), aggregate_grades([3, 0], "first")
    (2, 3, 3)
    """
    if how == "majority":
        counts = Counter(grades)
        top = max(counts.values())
        return min(g for g, n in counts.items() if n == top)
    if how == "mean":
        return math.floor(sum(grades) / len(grades) + 0.5)
    if how == "max":
        return max(grades)
    if how == "first":
        return grades[0]
    raise BabelirError(f"unknown aggregate {how!r} ({', '.join(AGGREGATES)})")


def project_qrels(project: Project, aggregate: str = "majority", min_grade: int | None = None,
                  assessor: str | None = None) -> list[Qrel]:
    """The project's qrels, by query position then document id."""
    if aggregate not in AGGREGATES:
        raise BabelirError(f"unknown aggregate {aggregate!r} ({', '.join(AGGREGATES)})")
    if min_grade is not None:
        project.check_grade(min_grade)
    if assessor is not None:
        project.require_assessor(assessor)
        who, params = "j.assessor = ?", (assessor,)
    else:
        who, params = "a.kind = 'person'", ()
    grades: dict[tuple[str, str], list[int]] = {}
    for qid, docno, grade in project.db.execute(
            "SELECT p.qid, p.docno, j.grade FROM judgments j JOIN pairs p ON p.id = j.pair_id "
            "JOIN assessors a ON a.name = j.assessor JOIN queries q ON q.id = p.qid "
            f"WHERE j.undone = 0 AND j.status = 'judged' AND {who} ORDER BY q.position, p.docno, j.id", params):
        grades.setdefault((qid, docno), []).append(grade)
    out = []
    for (qid, docno), found in grades.items():
        grade = aggregate_grades(found, aggregate)
        if min_grade is not None and grade < min_grade:
            grade = 0
        out.append(Qrel(qid, docno, grade))
    return out


def export_qrels(project_dir: str | Path, out: str | Path, aggregate: str = "majority",
                 min_grade: int | None = None, assessor: str | None = None) -> int:
    """Write the project's qrels to ``out`` (TREC, atomically); return how many were written.
    Raises a BabelirError when nothing is judged yet (an empty qrels file evaluates nothing)."""
    from babelir.io.qrels import write_qrels_trec

    with Project.open(project_dir) as project:
        qrels = project_qrels(project, aggregate, min_grade, assessor)
    if not qrels:
        raise BabelirError(f"{project_dir}: nothing is judged yet" + (f" by {assessor}" if assessor else ""))
    write_qrels_trec(out, qrels)
    return len(qrels)
