"""Judging projects: pooling (union, order, budget, adding runs), leases, judgments, undo, export,
and the bad input named in the issue (a run for another index, a newer project, an unknown assessor,
a grade outside the scale)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from babelir.errors import BabelirError, InputError
from babelir.index.core import Index
from babelir.judge import assign
from babelir.judge.export import export_qrels, project_qrels
from babelir.judge.pool import pool
from babelir.judge.project import DATABASE, FORMAT, Project
from babelir.io.qrels import read_qrels
from babelir.run import Run
from babelir.types import Doc

DOCS = [Doc(f"th-{i}", f"แมว ตัวที่ {i} นอนบนเสื่อ", lang="th") for i in range(6)] + \
       [Doc(f"ar-{i}", f"القطة رقم {i} تنام على الحصيرة", lang="ar") for i in range(6)]


@pytest.fixture
def collection(tmp_path):
    index = tmp_path / "index"
    with Index.create(index) as ix:
        ix.add(DOCS)
    topics = tmp_path / "topics.tsv"
    topics.write_text("qid\ttext\tlang\nth-q\tแมว นอน\tth\nar-q\tالقطة تنام\tar\n", encoding="utf-8")
    a = Run({"th-q": {f"th-{i}": 10 - i for i in range(6)}, "ar-q": {f"ar-{i}": 10 - i for i in range(6)}}, "a")
    b = Run({"th-q": {f"th-{i}": i for i in range(6)}, "ar-q": {"ar-0": 5.0, "ar-5": 4.0}}, "b")
    a.to_trec(tmp_path / "a.run")
    b.to_trec(tmp_path / "b.run")
    return tmp_path, index, topics


def _pool(tmp, index, topics, runs=("a.run",), **kw):
    return pool(tmp / "proj", [tmp / r for r in runs], topics=topics, index=index, **kw)


def test_pool_is_the_union_of_each_runs_top_depth(collection):
    tmp, index, topics = collection
    stats = _pool(tmp, index, topics, ("a.run", "b.run"), depth=2, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        pairs = set(p.db.execute("SELECT qid, docno FROM pairs").fetchall())
    # a's top 2: th-0 th-1 / ar-0 ar-1; b's top 2: th-5 th-4 / ar-0 ar-5
    assert pairs == {("th-q", "th-0"), ("th-q", "th-1"), ("th-q", "th-5"), ("th-q", "th-4"),
                     ("ar-q", "ar-0"), ("ar-q", "ar-1"), ("ar-q", "ar-5")}
    assert stats.by_lang["th"] == {"queries": 1, "pairs": 4, "single_run": 4, "new": 4}
    assert stats.by_lang["ar"] == {"queries": 1, "pairs": 3, "single_run": 2, "new": 3}
    assert "docs/query" in stats.table()


def test_rrf_order_puts_documents_many_runs_rank_high_first_and_budget_cuts(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, ("a.run", "b.run"), depth=6, overlap=0.0, max_per_query=2)
    with Project.open(tmp / "proj") as p:
        ar = p.db.execute("SELECT docno, needed FROM pairs WHERE qid = 'ar-q' ORDER BY position").fetchall()
    assert ar[0] == ("ar-0", 1)  # ranked first by both runs
    assert [needed for _, needed in ar] == [1, 1, 0, 0, 0, 0]  # the budget: two per query


def test_adding_runs_keeps_judgments_and_counts_new_pairs(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, ("a.run",), depth=2, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", None, "secret-ann")
        first = assign.next_pair(p, "ann")
        assign.record(p, "ann", first["id"], 3)
    stats = pool(tmp / "proj", [tmp / "b.run"], depth=2)  # no --index, no --topics: remembered
    assert sum(row["new"] for row in stats.by_lang.values()) == 3  # th-5, th-4, ar-5
    with Project.open(tmp / "proj") as p:
        assert project_qrels(p)[0].relevance == 3
        assert p.db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 7


def test_two_assessors_never_hold_one_single_judged_pair_and_share_an_overlap_pair(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=6, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        for name in ("ann", "bob"):
            p.add_assessor(name, None, f"secret-{name}")
        shown = {name: assign.next_pair(p, name)["id"] for name in ("ann", "bob")}
        assert shown["ann"] != shown["bob"]
        assert assign.next_pair(p, "ann")["id"] == shown["ann"]  # a reload gives the same pair back
        p.db.execute("UPDATE pairs SET needed = 2")
        assign.record(p, "ann", shown["ann"], 1)
        assert assign.next_pair(p, "bob")["id"] == shown["bob"]
        assign.record(p, "bob", shown["bob"], 1)
        assert assign.next_pair(p, "bob")["id"] == shown["ann"]  # needs a second person


def test_concurrent_assessors_in_threads_get_distinct_pairs(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, ("a.run", "b.run"), depth=6, overlap=0.0)
    names = [f"a{i}" for i in range(6)]
    with Project.open(tmp / "proj") as p:
        for name in names:
            p.add_assessor(name, None, f"secret-{name}")
    got, errors = {}, []

    def judge(name):
        try:
            with Project.open(tmp / "proj") as mine:  # one connection per assessor: SQLite locking, not the RLock
                while (pair := assign.next_pair(mine, name)) is not None:
                    got.setdefault(pair["id"], []).append(name)
                    assign.record(mine, name, pair["id"], 1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=judge, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(got) == 12 and all(len(who) == 1 for who in got.values())


def test_skip_and_cant_leave_the_pair_to_others_and_are_not_exported(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=1, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", None, "secret-ann")
        p.add_assessor("bob", None, "secret-bob")
        one = assign.next_pair(p, "ann")
        assign.record(p, "ann", one["id"], None, "cant")
        two = assign.next_pair(p, "ann")
        assign.record(p, "ann", two["id"], None, "skip")
        assert assign.next_pair(p, "ann") is None
        assert {assign.next_pair(p, "bob")["id"]} <= {one["id"], two["id"]}
        assert project_qrels(p) == []


def test_undo_withdraws_the_last_judgment_and_shows_the_pair_again(collection, tmp_path):
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=2, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", None, "secret-ann")
        first = assign.next_pair(p, "ann")
        assign.record(p, "ann", first["id"], 0)
        assign.next_pair(p, "ann")
        again = assign.undo(p, "ann")
        assert again["id"] == first["id"]
        assert project_qrels(p) == []
        assign.record(p, "ann", first["id"], 2)
        assert [q.relevance for q in project_qrels(p)] == [2]
        assert p.db.execute("SELECT sum(claimed) FROM pairs").fetchone()[0] == 1
    export_qrels(tmp / "proj", tmp_path / "q.trec")
    assert [(q.query_id, q.relevance) for q in read_qrels(tmp_path / "q.trec")] == [(first["query_id"], 2)]


@pytest.mark.parametrize("how,expected", [("majority", 1), ("mean", 2), ("max", 3), ("first", 3)])
def test_export_aggregates(collection, how, expected):
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=1, overlap=1.0)  # every pair for two people
    with Project.open(tmp / "proj") as p:
        for name in ("ann", "bob", "cat"):
            p.add_assessor(name, None, f"secret-{name}")
        p.db.execute("UPDATE pairs SET needed = 3")
        pair = assign.next_pair(p, "ann")["id"]
        for name, grade in (("ann", 3), ("bob", 1), ("cat", 1)):
            assert assign.next_pair(p, name)["id"] == pair
            assign.record(p, name, pair, grade)
        assert [q.relevance for q in project_qrels(p, how)] == [expected]
        assert [q.relevance for q in project_qrels(p, "max", min_grade=3)] == [3]
        assert [q.relevance for q in project_qrels(p, "majority", min_grade=2)] == [0]


def test_a_run_for_another_index_names_the_file_and_line(collection):
    tmp, index, topics = collection
    (tmp / "other.run").write_text("th-q Q0 th-0 1 2.0 x\nth-q Q0 en-9 2 1.0 x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"other\.run:2: field \"doc id\": document 'en-9' is not in the index"):
        _pool(tmp, index, topics, ("other.run",))


def test_a_query_without_text_is_named(collection):
    tmp, index, topics = collection
    (tmp / "q.run").write_text("th-q Q0 th-0 1 2.0 x\nzz-q Q0 th-1 1 1.0 x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"q\.run:2: field \"query id\": query 'zz-q' is not in the topics"):
        _pool(tmp, index, topics, ("q.run",))


def test_a_project_made_by_a_newer_babelir_is_refused(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics)
    db = sqlite3.connect(tmp / "proj" / DATABASE)
    db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(FORMAT + 1),))
    db.commit()
    db.close()
    with pytest.raises(BabelirError, match="made by a newer babelir"):
        Project.open(tmp / "proj")


def test_unknown_assessor_and_grade_outside_the_scale(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, scale="binary")
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", ["th"], "secret-ann")
        with pytest.raises(BabelirError, match="unknown assessor 'zoe'"):
            assign.next_pair(p, "zoe")
        pair = assign.next_pair(p, "ann")
        assert pair["doc_lang"] == "th"  # ann judges Thai only
        for bad in (2, -1, "1", True, None):
            with pytest.raises(BabelirError, match="outside the project's binary scale"):
                assign.record(p, "ann", pair["id"], bad)
        with pytest.raises(BabelirError, match="takes no grade"):
            assign.record(p, "ann", pair["id"], 1, "skip")
        assert p.login("ann", "secret-ann") and p.login("ann", "wrong-secret") is None


def test_secrets_are_hashed_and_sessions_stored_by_hash(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics)
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", None, "secret-ann")
        token = p.login("ann", "secret-ann")
        assert p.session(token) == "ann" and p.session("forged") is None
        dump = "\n".join(p.db.iterdump())
    assert "secret-ann" not in dump and token not in dump


def test_a_judgment_of_a_pair_not_held_is_refused(collection):
    """A stale tab or a script: another assessor's pair, a pair outside one's languages, a pair one
    judged already elsewhere. A pair whose lease ran out and that nobody took is still accepted."""
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=2, overlap=0.0)
    with Project.open(tmp / "proj") as p:
        p.add_assessor("ann", None, "secret-ann")
        p.add_assessor("bob", ["th"], "secret-bob")
        p.add_assessor("cat", ["ar"], "secret-cat")
        held = assign.next_pair(p, "bob")
        with pytest.raises(assign.PairNotYours, match="no longer yours"):
            assign.record(p, "ann", held["id"], 1)
        arabic = p.db.execute("SELECT id FROM pairs WHERE lang = 'ar' LIMIT 1").fetchone()[0]
        with pytest.raises(assign.PairNotYours, match="not in your languages"):
            assign.record(p, "bob", arabic, 1)
        assign.record(p, "bob", held["id"], 2)
        with pytest.raises(assign.PairNotYours, match="judged pair .* already"):
            assign.record(p, "bob", held["id"], 0)  # the other tab: undo first
        assign.record(p, "cat", arabic, 1)  # never shown, open, in cat's languages: accepted
        assert sorted(q.relevance for q in project_qrels(p)) == [1, 2]
        assert p.db.execute("SELECT sum(claimed) FROM pairs").fetchone()[0] == 2


@pytest.mark.parametrize("bad", ["topics", "index", "query"])
def test_a_failed_first_pool_leaves_no_project(collection, bad):
    """A retry with other settings (--scale) must not meet a half-made project."""
    tmp, index, topics = collection
    (tmp / "empty.tsv").write_text("q1\t\n", encoding="utf-8")
    (tmp / "q.run").write_text("zz-q Q0 th-1 1 1.0 x\n", encoding="utf-8")
    args = {"topics": {"runs": ("a.run",), "topics": tmp / "empty.tsv", "index": index},
            "index": {"runs": ("a.run",), "topics": topics, "index": None},
            "query": {"runs": ("q.run",), "topics": topics, "index": index}}[bad]
    with pytest.raises(BabelirError):
        pool(tmp / "proj", [tmp / r for r in args["runs"]], topics=args["topics"], index=args["index"])
    assert not (tmp / "proj").exists()
    (tmp / "made").mkdir()
    with pytest.raises(BabelirError):
        pool(tmp / "made", [tmp / r for r in args["runs"]], topics=args["topics"], index=args["index"])
    assert list((tmp / "made").iterdir()) == []  # an empty directory the user made stays, empty
    _pool(tmp, index, topics, scale="binary")
    with Project.open(tmp / "proj") as p:
        assert p.scale == "binary"


def test_a_failed_pool_into_a_project_changes_nothing(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics, depth=2, overlap=0.0)
    (tmp / "bad.run").write_text("th-q Q0 th-0 1 1.0 x\nth-q Q0 en-9 2 0.5 x\n", encoding="utf-8")
    with pytest.raises(InputError):
        pool(tmp / "proj", [tmp / "bad.run"], depth=2, overlap=0.5)
    with Project.open(tmp / "proj") as p:
        assert p.overlap == 0.0 and p.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_runs_of_the_same_file_name_in_two_directories_are_two_runs(collection):
    tmp, index, topics = collection
    for name, doc in (("x", "th-3"), ("y", "th-4")):
        (tmp / name).mkdir()
        (tmp / name / "run.trec").write_text(f"th-q Q0 {doc} 1 9.0 {name}\n", encoding="utf-8")
    pool(tmp / "proj", [tmp / "x" / "run.trec"], topics=topics, index=index)
    stats = pool(tmp / "proj", [tmp / "y" / "run.trec"])
    assert stats.by_lang["th"]["pairs"] == 2 and stats.by_lang["th"]["new"] == 1
    with Project.open(tmp / "proj") as p:
        assert p.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        assert p.db.execute("SELECT count(DISTINCT pair_id) FROM contributions").fetchone()[0] == 2
    stats = pool(tmp / "proj", [tmp / "y" / "run.trec"])  # the same file again: nothing new
    assert stats.by_lang["th"]["new"] == 0 and stats.by_lang["th"]["pairs"] == 2


def test_model_names_and_empty_languages_are_refused(collection):
    tmp, index, topics = collection
    _pool(tmp, index, topics)
    with Project.open(tmp / "proj") as p:
        with pytest.raises(BabelirError, match="are for models"):
            p.add_assessor("model:me", None, "secret-me-x")
        assert p.ensure_model_assessor("e5") == "model:e5"
        with pytest.raises(BabelirError, match="grade null is outside"):
            p.check_grade(None)


def test_cli_refuses_empty_languages_and_a_port_in_use(collection, capsys):
    import socket

    from tests.conftest import cli_in_process

    tmp, index, topics = collection
    _pool(tmp, index, topics)
    code, _, err = cli_in_process(capsys, "judge", "assessor", "add", tmp / "proj", "kim", "--langs", "")
    assert code == 2 and "--langs is empty" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for args in (["judge", "serve", tmp / "proj"], ["serve", "--index", f"ix={index}"]):
            code, out, err = cli_in_process(capsys, *args, "--port", port)
            assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and "judging" not in out
