"""babelir.judge.simulate: simulated assessors answer a pool from known qrels through the real hot path."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from babelir.errors import BabelirError
from babelir.index.core import Index
from babelir.io.qrels import write_qrels_trec
from babelir.io.topics import write_topics_tsv
from babelir.judge.export import project_qrels
from babelir.judge.pool import pool
from babelir.judge.project import Project
from babelir.judge.simulate import simulate, true_grade
from babelir.run import Run
from babelir.types import Doc, Qrel, Query

LANGS = ("en", "de")
QUERIES = [Query(f"{lang}-{i}", f"question {i}", lang) for lang in LANGS for i in range(3)]
DOCS = [Doc(f"{lang}-d{j:02d}", f"passage number {j} in {lang}", lang=lang) for lang in LANGS for j in range(30)]
# graded truth: for query L-i, document L-d(i*3) is 3, L-d(i*3+1) is 2, L-d(i*3+2) is 1; one 0 written out
KNOWN = [Qrel(q.id, f"{q.lang}-d{int(q.id.split('-')[1]) * 3 + k:02d}", 3 - k) for q in QUERIES for k in range(3)]
KNOWN.append(Qrel("en-0", "en-d29", 0))


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """An index of 60 passages in two languages, two runs over six queries, topics and qrels."""
    root = tmp_path_factory.mktemp("simulate")
    index = Index.create(root / "index")
    index.add(DOCS)
    index.close()
    runs = []
    for n, shift in enumerate((0, 7)):  # two runs ranking each language's passages in different orders
        scores = {q.id: {f"{q.lang}-d{(j + shift) % 30:02d}": 30.0 - j for j in range(30)} for q in QUERIES}
        path = root / f"run{n}.trec"
        Run(scores, name=f"run{n}").to_trec(path)
        runs.append(path)
    write_topics_tsv(root / "topics.tsv", QUERIES)
    write_qrels_trec(root / "qrels.trec", KNOWN)
    return root, runs


def make_project(collection, directory, depth=20):
    root, runs = collection
    pool(directory, runs, depth=depth, topics=root / "topics.tsv", index=root / "index", overlap=0.5)
    return Project.open(directory)


def pool_truth(project: Project) -> dict[tuple[str, str], int]:
    known = {(q.query_id, q.doc_id): q.relevance for q in KNOWN}
    return {(qid, docno): true_grade(known.get((qid, docno), 0), project.grades)
            for qid, docno in project.db.execute("SELECT qid, docno FROM pairs WHERE needed > 0")}


def live(project: Project) -> list[tuple]:
    return [(r[1], r[2], r[4], r[5]) for r in project.live_judgments()]


def test_noise_zero_exports_the_known_qrels_restricted_to_the_pool(collection, tmp_path):
    with make_project(collection, tmp_path / "p") as project:
        result = simulate(project, KNOWN, noise=0.0, assessors=2)
        exported = {(q.query_id, q.doc_id): q.relevance for q in project_qrels(project)}
        truth = pool_truth(project)
        doubles = project.db.execute("SELECT count(*) FROM pairs WHERE needed = 2").fetchone()[0]
    assert exported == truth
    assert sorted(set(exported.values())) == [0, 1, 2, 3]  # the graded scale is kept, not made binary
    assert result.pairs == len(truth) and result.judgments == len(truth) + doubles and result.wrong == 0
    assert result.assessors == ("sim-1", "sim-2")


def test_overlap_pairs_get_two_different_simulated_assessors(collection, tmp_path):
    with make_project(collection, tmp_path / "p") as project:
        simulate(project, KNOWN, noise=0.0, assessors=2)
        needed = dict(project.db.execute("SELECT id, needed FROM pairs"))
        who = defaultdict(list)
        for row in project.live_judgments(people_only=True):
            who[row[0]].append(row[4])
    doubles = [pair for pair, n in needed.items() if n == 2]
    assert 10 < len(doubles) < len(needed)  # overlap 0.5: about half the pairs
    for pair, n in needed.items():
        assert len(who[pair]) == n and len(set(who[pair])) == n, (pair, who[pair])
    assert {name for names in who.values() for name in names} == {"sim-1", "sim-2"}


def test_noise_gives_wrong_grades_at_about_its_rate_and_a_seed_repeats(collection, tmp_path):
    judged = []
    for n, seed in enumerate((7, 7, 8)):
        with make_project(collection, tmp_path / f"p{n}") as project:
            result = simulate(project, KNOWN, noise=0.3, assessors=2, seed=seed)
            truth = pool_truth(project)
            rows = live(project)
        wrong = [r for r in rows if r[3] != truth[(r[0], r[1])]]
        assert result.wrong == len(wrong) and result.judgments == len(rows)
        assert all(r[3] in (0, 1, 2, 3) for r in wrong)
        assert 0.2 <= len(wrong) / len(rows) <= 0.4, len(wrong) / len(rows)
        judged.append(rows)
    assert judged[0] == judged[1]  # same seed, same project: the same judgments
    assert judged[0] != judged[2]
    # the wrong grades are drawn among the other grades: every true grade meets more than one wrong one
    first = judged[0]
    with Project.open(tmp_path / "p0") as project:
        truth = pool_truth(project)
    wrong_by_truth = defaultdict(Counter)
    for qid, docno, _, grade in first:
        if grade != truth[(qid, docno)]:
            wrong_by_truth[truth[(qid, docno)]][grade] += 1
    assert len(wrong_by_truth[0]) == 3  # 0 was turned into 1, 2 and 3


def test_binary_project_clips_grades(collection, tmp_path):
    root, runs = collection
    pool(tmp_path / "b", runs, depth=5, topics=root / "topics.tsv", index=root / "index", scale="binary")
    with Project.open(tmp_path / "b") as project:
        simulate(project, KNOWN, noise=0.0)
        exported = {(q.query_id, q.doc_id): q.relevance for q in project_qrels(project)}
    known = {(q.query_id, q.doc_id): q.relevance for q in KNOWN}
    assert exported and set(exported.values()) == {0, 1}
    assert all(grade == (known.get(pair, 0) > 0) for pair, grade in exported.items())


def test_unknown_queries_are_counted_and_qrels_of_another_collection_refused(collection, tmp_path):
    with make_project(collection, tmp_path / "p", depth=3) as project:
        result = simulate(project, KNOWN + [Qrel("zz-9", "zz-d1", 1)], noise=0.0)
        assert result.unknown_queries == 1 and result.queries_without_qrels == 0
        assert "1 queries of the qrels are not in the project" in result.summary()
    with make_project(collection, tmp_path / "q", depth=3) as project:
        with pytest.raises(BabelirError, match="none of the project's queries"):
            simulate(project, [Qrel("zz-9", "zz-d1", 1)])
        with pytest.raises(BabelirError, match="between 0 and 1"):
            simulate(project, KNOWN, noise=1.5)
        assert project.db.execute("SELECT count(*) FROM judgments").fetchone()[0] == 0


def test_limit_stops_and_a_second_call_continues(collection, tmp_path):
    with make_project(collection, tmp_path / "p", depth=3) as project:
        first = simulate(project, KNOWN, noise=0.0, limit=5)
        rest = simulate(project, KNOWN, noise=0.0)
        again = simulate(project, KNOWN, noise=0.0)
        exported = {(q.query_id, q.doc_id): q.relevance for q in project_qrels(project)}
        truth = pool_truth(project)
        assert [name for name, _, _ in project.assessors()] == ["sim-1", "sim-2"]
    assert first.judgments == 5 and first.limited
    assert not rest.limited and rest.judgments > 0 and again.judgments == 0
    assert exported == truth


def test_cli_prints_the_counts(collection, tmp_path, capsys):
    from babelir.cli import main

    root, _ = collection
    make_project(collection, tmp_path / "p", depth=3).close()
    code = main(["judge", "simulate", str(tmp_path / "p"), "--qrels", str(root / "qrels.trec"), "--noise", "0",
                 "--assessors", "3", "--quiet"])
    out = capsys.readouterr().out
    with Project.open(tmp_path / "p") as project:
        pairs = project.db.execute("SELECT count(*), sum(needed) FROM pairs WHERE needed > 0").fetchone()
    assert code == 0
    assert f"{pairs[1]} judgments of {pairs[0]} pairs by sim-1, sim-2, sim-3" in out and "0 differ" in out
    write_qrels_trec(tmp_path / "other.trec", [Qrel("zz-9", "zz-d1", 1)])
    code = main(["judge", "simulate", str(tmp_path / "p"), "--qrels", str(tmp_path / "other.trec")])
    assert code == 2 and "none of the project's queries" in capsys.readouterr().err
