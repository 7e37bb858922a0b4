"""Simulated assessors: answer a project's pairs from known qrels, to check the judging loop without people.

:func:`simulate` adds simulated assessors ``sim-1``, ``sim-2``, … (kind ``person``, every language;
an existing ``sim-N`` person is reused, so a second call continues where the first stopped) and
drives the judging page's own hot path, :func:`babelir.judge.assign.next_pair` then
:func:`babelir.judge.assign.record`, round-robin over them until no pair is left for any of them.
A pair of the agreement sample (``needed = 2``) is therefore judged by two different simulated
assessors, exactly as two people in the browser would judge it. Because they are people to the
project, export, status and agreement count their judgments as people's.

Each grade is the qrels' relevance of the pair (a pair absent from the qrels is 0), clipped to the
project's scale (binary: above 0 is 1; graded: into 0–3). With probability ``noise`` the assessor
errs and gives instead one of the scale's *other* grades, drawn uniformly (a uniform
misclassification model of assessor error, as in Voorhees 2000, "Variations in relevance judgments
and the measurement of retrieval effectiveness", IP&M 36(5), and the simulated-assessor studies
that followed). Draws come from a seeded :func:`numpy.random.default_rng`, one per judgment in
judging order, so a seed gives the same judgments on the same project.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from babelir.errors import BabelirError
from babelir.judge.project import Project
from babelir.types import Qrel

PREFIX = "sim-"


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate` did.

    ``judgments``: judgments recorded; ``wrong``: those whose grade differs from the clipped qrels
    grade; ``pairs``: distinct pairs judged; ``assessors``: the simulated assessors' names;
    ``seconds``: wall time; ``unknown_queries``: qrels queries that are not in the project (ignored:
    full qrels usually cover more queries than a pool); ``queries_without_qrels``: project queries the
    qrels do not name (every pair of them is graded 0); ``limited``: stopped at ``limit`` with pairs
    left."""

    judgments: int
    wrong: int
    pairs: int
    assessors: tuple[str, ...]
    seconds: float
    unknown_queries: int
    queries_without_qrels: int
    limited: bool

    def summary(self) -> str:
        rate = self.judgments / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{self.judgments} judgments of {self.pairs} pairs by {', '.join(self.assessors)} in "
                 f"{self.seconds:.1f} s ({rate:.0f} judgments/s); {self.wrong} differ from the qrels"]
        if self.limited:
            lines.append("stopped at --limit; pairs are left (run again to continue)")
        if self.unknown_queries:
            lines.append(f"warning: {self.unknown_queries} queries of the qrels are not in the project (ignored)")
        if self.queries_without_qrels:
            lines.append(f"warning: {self.queries_without_qrels} queries of the project have no qrels "
                         "(their pairs were graded 0)")
        return "\n".join(lines)


def true_grade(relevance: int, grades: tuple[int, ...]) -> int:
    """``relevance`` clipped to the scale ``grades`` (binary: above 0 is 1).

    >>> true_grade(2, (0, 1)), true_grade(5, (0, 1, 2, 3)), true_grade(-1, (0, 1, 2, 3))
    (1, 3, 0)
    """
    if grades == (0, 1):
        return 1 if relevance > 0 else 0
    return min(max(relevance, grades[0]), grades[-1])


def simulate(project: Project, qrels: Iterable[Qrel], noise: float = 0.1, assessors: int = 2, seed: int = 0,
             limit: int | None = None, quiet: bool = True, source: str | None = None) -> Simulation:
    """Judge ``project``'s open pairs with ``assessors`` simulated people answering from ``qrels``.

    Inputs: an open :class:`Project`; ``qrels`` (e.g. :func:`babelir.io.qrels.read_qrels`); ``noise``
    the probability that a judgment is a uniformly drawn other grade; ``seed`` for numpy's
    Generator; ``limit`` the most judgments to make in this call (None: until nothing is left).
    Returns a :class:`Simulation`. Raises a BabelirError for a noise outside 0–1, fewer than one
    assessor, a negative limit, or qrels that name none of the project's queries (the wrong file).
    """
    import numpy as np

    from babelir.judge.assign import next_pair, record
    from babelir.progress import progress

    if not 0.0 <= noise <= 1.0:
        raise BabelirError(f"the noise is a probability, between 0 and 1, not {noise}")
    if assessors < 1:
        raise BabelirError(f"simulate needs at least one assessor, not {assessors}")
    if limit is not None and limit < 0:
        raise BabelirError(f"the limit is a number of judgments, 0 or more, not {limit}")
    truth: dict[tuple[str, str], int] = {}
    for qrel in qrels:
        truth[(qrel.query_id, qrel.doc_id)] = qrel.relevance
    project_queries = {r[0] for r in project.db.execute("SELECT id FROM queries")}
    named = {qid for qid, _ in truth}
    if project_queries and not named & project_queries:
        raise BabelirError(f"{source or 'the qrels'}: they name none of the project's "
                           "queries (qrels of another collection?)")
    grades = project.grades
    names = _assessors(project, assessors)
    rng = np.random.default_rng(seed)
    total = _open_judgments(project)
    if limit is not None:
        total = min(total, limit)
    started = time.perf_counter()
    made = wrong = 0
    judged: set[int] = set()
    done: set[str] = set()
    with progress(total=total, desc="simulated judging", unit="judgment", quiet=quiet) as bar:
        while len(done) < len(names) and (limit is None or made < limit):
            for name in names:
                if name in done or (limit is not None and made >= limit):
                    continue
                pair = next_pair(project, name)
                if pair is None:
                    done.add(name)
                    continue
                correct = true_grade(truth.get((pair["query_id"], pair["doc_id"]), 0), grades)
                grade = correct
                if noise > 0 and rng.random() < noise:
                    others = [g for g in grades if g != correct]
                    grade = int(others[rng.integers(len(others))])
                record(project, name, pair["id"], grade)
                made += 1
                wrong += grade != correct
                judged.add(pair["id"])
                bar.update(1)
    limited = limit is not None and made >= limit and _open_judgments(project) > 0
    return Simulation(made, wrong, len(judged), tuple(names), time.perf_counter() - started,
                      len(named - project_queries), len(project_queries - named), limited)


def _assessors(project: Project, count: int) -> list[str]:
    """``sim-1`` … ``sim-<count>``: existing simulated people are reused, missing ones added."""
    known = {name: kind for name, kind, _ in project.assessors()}
    names = []
    for i in range(1, count + 1):
        name = f"{PREFIX}{i}"
        if name not in known:
            project.add_assessor(name, None)
        elif known[name] != "person":
            raise BabelirError(f"assessor {name!r} exists and is not a person; simulate cannot use the name")
        names.append(name)
    return names


def _open_judgments(project: Project) -> int:
    """People's judgments the pool still needs (pairs in the budget, less the graded ones)."""
    row = project.db.execute(
        "SELECT coalesce(sum(max(p.needed - (SELECT count(*) FROM judgments j JOIN assessors a ON a.name = "
        "j.assessor WHERE j.pair_id = p.id AND j.undone = 0 AND j.status = 'judged' AND a.kind = 'person'), 0)), 0) "
        "FROM pairs p WHERE p.needed > 0").fetchone()
    return int(row[0])

