"""The judging commands end to end, as a user runs them: judge demo (from the quickstart's runs),
pool, assessor, status, export, eval of the exported qrels; and their one-line errors (exit 2)."""

from __future__ import annotations

import sqlite3

import pytest

from babelir.judge import assign
from babelir.judge.project import DATABASE, Project
from tests.conftest import run_cli

pytestmark = pytest.mark.slow  # the demo runs the quickstart (encoding the demo collection with mE5-small)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("judge") / "qs"
    result = run_cli("judge", "demo", "-o", out, "--quiet", check=True)
    return out, result.stdout


def test_demo_builds_a_project_from_the_quickstart_runs_and_says_how_to_open_it(demo):
    out, stdout = demo
    assert f"babelir judge serve {out / 'judging'}" in stdout
    assert "somchai" in stdout and "th,zh,ja,ko" in stdout
    with Project.open(out / "judging") as p:
        assert p.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
        assert p.db.execute("SELECT count(DISTINCT lang) FROM pairs").fetchone()[0] == 12
    again = run_cli("judge", "demo", "-o", out, "--quiet", check=True)  # idempotent: no assessor twice
    assert "exist already" in again.stdout
    with Project.open(out / "judging") as p:
        assert len(p.assessors()) == 3


def test_judged_pairs_export_to_qrels_that_eval_reads_with_judged_at_10(demo, tmp_path):
    out, _ = demo
    project = out / "judging"
    with Project.open(project) as p:
        made = {}
        for _ in range(8):
            pair = assign.next_pair(p, "somchai")
            grade = len(made) % 4
            assign.record(p, "somchai", pair["id"], grade)
            made[(pair["query_id"], pair["doc_id"])] = grade
    status = run_cli("judge", "status", project, check=True).stdout
    assert "somchai" in status and "Krippendorff α" in status
    result = run_cli("judge", "export", project, "-o", tmp_path / "q.trec", check=True)
    assert "wrote 8 judgments" in result.stdout
    lines = (tmp_path / "q.trec").read_text().split("\n")
    assert {(q, d): int(g) for q, _, d, g in (line.split() for line in lines if line)} == made
    evaluation = run_cli("eval", tmp_path / "q.trec", out / "hybrid.run", "-m", "nDCG@10", "-m", "Judged@10",
                         check=True)
    assert "Judged@10" in evaluation.stdout


@pytest.mark.parametrize("args,message", [
    (["judge", "status", "{tmp}/nowhere"], "not a judging project"),
    (["judge", "export", "{project}", "-o", "{tmp}/x.trec", "--assessor", "zoe"], "unknown assessor 'zoe'"),
    (["judge", "assessor", "add", "{project}", "a b"], "assessor name has whitespace"),
    (["pool", "{tmp}/bad.run", "-o", "{project}"], "bad.run:1: field \"doc id\""),
    (["pool", "{qs}/bm25.run", "-o", "{tmp}/new"], "a new project needs --index"),
    (["pool", "{qs}/bm25.run", "-o", "{project}", "--scale", "binary"], "cannot change to binary"),
])
def test_bad_input_is_one_line_and_exit_2(demo, tmp_path, args, message):
    out, _ = demo
    (tmp_path / "bad.run").write_text("en-1 Q0 not-a-doc 1 1.0 x\n", encoding="utf-8")
    filled = [a.format(tmp=tmp_path, project=out / "judging", qs=out) for a in args]
    result = run_cli(*filled)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_newer_project_is_refused_by_every_command(demo, tmp_path):
    import shutil

    out, _ = demo
    copy = tmp_path / "newer"
    shutil.copytree(out / "judging", copy)
    db = sqlite3.connect(copy / DATABASE)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    for args in (["judge", "status", copy], ["judge", "export", copy, "-o", tmp_path / "q"],
                 ["pool", out / "bm25.run", "-o", copy]):
        result = run_cli(*args)
        assert result.returncode == 2 and "made by a newer babelir (project format 99" in result.stderr
