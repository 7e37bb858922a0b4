"""Model pre-judgments (babelir judge prejudge: an LLM endpoint, e5, a cross-encoder) and
babelir judge compare-qrels (Kendall tau between system rankings under two qrels)."""

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from babelir.errors import BabelirError
from babelir.judge.prejudge import cut, prejudge, select_pairs, to_scale, UMBRELA_PROMPT
from babelir.judge.project import Project
from tests.conftest import run_cli, write
from tests.fake_llm import FakeLLM, grade_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The quickstart's demo collection (240 passages, 72 queries in 12 languages) in a BM25 index
    (script-aware analysis: a second to build), with two runs: 'near' ranks each query's relevant
    passages first, then others in a stable pseudo-random order; 'mixed' ranks all in another."""
    from babelir.io.demo import load_demo

    out = tmp_path_factory.mktemp("demo")
    demo = load_demo()
    write(out / "corpus.jsonl", "".join(json.dumps({"id": d.id, "text": d.text, "lang": d.lang}) + "\n"
                                        for d in demo.docs))
    write(out / "topics.tsv", "".join(f"{q.id}\t{q.text}\t{q.lang}\n" for q in demo.queries))
    write(out / "qrels.trec", "".join(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n" for q in demo.qrels))
    run_cli("index", out / "corpus.jsonl", "-o", out / "index", "--analyzer", "script-aware", "-q", check=True)
    relevant = {(q.query_id, q.doc_id) for q in demo.qrels}
    for name, key in (("near", lambda q, d: ((q.id, d.id) not in relevant, _hash(q.id + d.id))),
                      ("mixed", lambda q, d: (_hash(d.id + q.id),))):
        lines = []
        for q in demo.queries:
            ranked = sorted(demo.docs, key=lambda d: key(q, d))[:10]
            lines += [f"{q.id} Q0 {d.id} {r + 1} {10 - r} {name}" for r, d in enumerate(ranked)]
        write(out / f"{name}.run", "\n".join(lines) + "\n")
    from babelir.judge.pool import pool

    for scale in ("graded", "binary"):
        pool(out / scale, [out / "near.run", out / "mixed.run"], depth=5, topics=out / "topics.tsv",
             index=out / "index", max_per_query=3, scale=scale)
    return out


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def make_project(demo: Path, folder: Path, scale: str = "graded") -> Path:
    """A fresh copy of the pooled demo project (3 pairs per query in the budget, 216 in all)."""
    shutil.copytree(demo / scale, folder)
    return folder


@pytest.fixture
def project(demo, tmp_path) -> Path:
    return make_project(demo, tmp_path / "proj")


def expected_grades(folder: Path, limit: int | None = None) -> dict[int, int]:
    with Project.open(folder) as p:
        return {x["id"]: grade_for(UMBRELA_PROMPT.format(query=x["query"], passage=x["passage"]))
                for x in select_pairs(p, limit)}


def stored(folder: Path, assessor: str) -> dict[int, int]:
    db = sqlite3.connect(folder / "project.sqlite")
    rows = db.execute("SELECT pair_id, grade FROM judgments WHERE assessor = ? AND undone = 0", (assessor,)).fetchall()
    db.close()
    return dict(rows)


def test_llm_prejudge_stores_a_marked_model_assessor(project, tmp_path):
    from babelir.judge.assign import next_pair, progress, record

    with Project.open(project) as p:
        p.add_assessor("ana", None, secret="secret-ana")
        pair = next_pair(p, "ana")
        record(p, "ana", pair["id"], 2)
        before = progress(p)
    with FakeLLM() as fake:
        result = run_cli("judge", "prejudge", project, "--model", f"llm:{fake.url}", "--llm-model", "fake/m-1",
                         "--limit", "30")
        assert result.returncode == 0, result.stderr
        assert len(fake.requests) == 30 and fake.requests[0]["model"] == "fake/m-1"
    assert "model:llm-fake-m-1: 30 of 30 pairs asked labelled" in result.stdout
    want = expected_grades(project, 30)
    assert stored(project, "model:llm-fake-m-1") == want
    assert len(set(want.values())) >= 2  # the fake's grades vary, so the comparison can fail
    with Project.open(project) as p:
        assert ("model:llm-fake-m-1", "model", "*") in p.assessors()
        assert progress(p) == before  # a model never counts towards the people's need
    model_qrels, people_qrels = tmp_path / "model.qrels", tmp_path / "people.qrels"
    run_cli("judge", "export", project, "--assessor", "model:llm-fake-m-1", "-o", model_qrels, check=True)
    run_cli("judge", "export", project, "-o", people_qrels, check=True)
    assert len(model_qrels.read_text().splitlines()) == 30
    assert people_qrels.read_text().split() == [pair["query_id"], "0", pair["doc_id"], "2"]


def test_llm_prejudge_resumes_and_redoes(project):
    with FakeLLM() as fake:
        first = prejudge(project, f"llm:{fake.url}", llm_model="m", limit=10, quiet=True)
        again = prejudge(project, f"llm:{fake.url}", llm_model="m", limit=15, quiet=True)
        assert (first.asked, again.asked, again.already, len(fake.requests)) == (10, 5, 10, 15)
        redo = prejudge(project, f"llm:{fake.url}", llm_model="m", limit=15, redo=True, quiet=True)
        assert (redo.asked, redo.already, len(fake.requests)) == (15, 0, 30)
    assert stored(project, "model:llm-m") == expected_grades(project, 15)


def test_llm_failures_are_counted_not_fatal_unless_all_fail(project):
    with Project.open(project) as p:
        first, second = select_pairs(p, 2)
        with p.transaction() as db:
            db.execute("UPDATE docs SET text = text || ' NOGRADE' WHERE id = ?", (second["doc_id"],))
    with FakeLLM() as fake:
        fake.plan = ["malformed"]  # the first pair's reply is not JSON
        report = prejudge(project, f"llm:{fake.url}", llm_model="m", limit=6, quiet=True)
        assert len(fake.requests) == 6
        assert report.asked == 6 and report.failures >= 2 and report.stored == 6 - report.failures
        text = report.summary()
        assert f"{first['query_id']}/{first['doc_id']}: " in text and "not JSON" in text
        assert f"{second['query_id']}/{second['doc_id']}: no grade in the reply 'I cannot tell.'" in text
        assert first["id"] not in stored(project, "model:llm-m")
        fake.default = "malformed"
        result = run_cli("judge", "prejudge", project, "--model", f"llm:{fake.url}", "--llm-model", "x",
                         "--limit", "3")
    assert result.returncode == 2
    assert "model:llm-x: no pair got a grade (3 asked)" in result.stderr and "Traceback" not in result.stderr


def test_llm_refused_key_stops_with_one_line(project, monkeypatch):
    with FakeLLM() as fake:
        fake.default = "401"
        result = run_cli("judge", "prejudge", project, "--model", f"llm:{fake.url}", "--llm-model", "x",
                         "--api-key-env", "BABELIR_TEST_NO_KEY")
        assert len(fake.requests) == 1
    assert result.returncode == 2 and "HTTP 401" in result.stderr and "$BABELIR_TEST_NO_KEY is not set" in result.stderr


def test_binary_project_maps_llm_grades(demo, tmp_path):
    folder = make_project(demo, tmp_path / "bin", "binary")
    with FakeLLM() as fake:
        report = prejudge(folder, f"llm:{fake.url}", llm_model="m", limit=20, quiet=True)
    assert "0-1 -> 0, 2-3 -> 1" in report.summary()
    want = {k: to_scale(g, "binary") for k, g in expected_grades(folder, 20).items()}
    assert stored(folder, "model:llm-m") == want and set(want.values()) == {0, 1}


@pytest.mark.slow
def test_e5_prejudge_on_the_demo(demo, tmp_path):
    from sklearn.metrics import f1_score

    from babelir.encode.base import get_encoder
    from babelir.judge.pool import pool
    from babelir.judge.prejudge import E5_THRESHOLDS

    folder = tmp_path / "e5"
    pool(folder, [demo / "near.run", demo / "mixed.run"], depth=5, topics=demo / "topics.tsv", index=demo / "index")
    result = run_cli("judge", "prejudge", folder, "--model", "e5", "--batch-size", "128")
    assert result.returncode == 0, result.stderr
    with Project.open(folder) as p:
        pairs = select_pairs(p)
    assert f"model:e5: {len(pairs)} of {len(pairs)} pairs asked labelled" in result.stdout
    encoder = get_encoder()
    cosines = [float(encoder.encode_queries([x["query"]])[0] @ encoder.encode_passages([x["passage"]])[0])
               for x in pairs]
    grades = stored(folder, "model:e5")
    assert grades == dict(zip([x["id"] for x in pairs], cut(cosines, E5_THRESHOLDS["graded"])))
    assert set(grades.values()) == {0, 1, 2, 3}
    relevant = {(q.split()[0], q.split()[2]) for q in (demo / "qrels.trec").read_text().splitlines()}
    truth = [int((x["query_id"], x["doc_id"]) in relevant) for x in pairs]
    # grade >= 2 against the demo's qrels: F1 0.644 measured on this pool (0.743 on the quickstart's bm25+dense
    # pool, where the thresholds were chosen)
    assert f1_score(truth, [int(grades[x["id"]] >= 2) for x in pairs]) > 0.6


def test_thresholds_are_checked(project):
    with pytest.raises(BabelirError, match="needs 3 values"):
        prejudge(project, "e5", thresholds=(0.8, 0.9), quiet=True)
    with pytest.raises(BabelirError, match="must increase"):
        prejudge(project, "e5", thresholds=(0.9, 0.8, 0.95), quiet=True)
    with pytest.raises(BabelirError, match="unknown --model"):
        prejudge(project, "bm25", quiet=True)


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory) -> Path:
    from transformers import BertForSequenceClassification

    from tests.tiny_models import build_tiny_bert

    folder = build_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-ce")
    BertForSequenceClassification.from_pretrained(folder, num_labels=1).save_pretrained(folder)
    return folder


def test_cross_encoder_prejudge(project, tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    with pytest.raises(BabelirError, match="needs --thresholds"):
        prejudge(project, f"ce:{tiny_cross_encoder}", quiet=True)
    with Project.open(project) as p:
        pairs = select_pairs(p, 40)
    scores = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [(x["query"], x["passage"]) for x in pairs], show_progress_bar=False)
    lo, hi = float(min(scores)), float(max(scores))
    cuts = tuple(lo + (hi - lo) * f for f in (0.25, 0.5, 0.75))
    report = prejudge(project, f"ce:{tiny_cross_encoder}", limit=40, thresholds=cuts, batch_size=16, quiet=True)
    assert report.assessor == "model:ce-tiny-ce" and report.stored == 40
    want = dict(zip([x["id"] for x in pairs], cut(scores, cuts)))
    assert stored(project, "model:ce-tiny-ce") == want and len(set(want.values())) >= 3


# -- compare-qrels ------------------------------------------------------------------------------

def write_runs(folder: Path) -> list[Path]:
    """Three systems: 'good' ranks d1 first (dx 4th), 'mid' d1 2nd (dx 3rd), 'bad' d1 3rd (dx 2nd)."""
    orders = {"good": ["d1", "d2", "d3", "dx"], "mid": ["d2", "d1", "dx", "d3"], "bad": ["d2", "dx", "d1", "d3"]}
    paths = []
    for name, order in orders.items():
        lines = [f"{q} Q0 {d} {r + 1} {4 - r} {name}" for q in ("en-1", "de-1") for r, d in enumerate(order)]
        paths.append(write(folder / f"{name}.run", "\n".join(lines) + "\n"))
    return paths


def test_compare_qrels_identical_and_reversed(tmp_path):
    from scipy.stats import kendalltau

    from babelir.evaluate.metrics import evaluate
    from babelir.io.qrels import read_qrels
    from babelir.run import Run

    runs = write_runs(tmp_path)
    people = write(tmp_path / "a.qrels", "en-1 0 d1 1\nde-1 0 d1 1\n")
    flipped = write(tmp_path / "b.qrels", "en-1 0 dx 1\nde-1 0 dx 1\n")  # ranks the systems the other way
    same = run_cli("judge", "compare-qrels", people, people, *runs)
    assert same.returncode == 0, same.stderr
    assert "Kendall tau (scipy tau-b) = 1.000, p = 0.3333, 3 systems" in same.stdout
    result = run_cli("judge", "compare-qrels", people, flipped, *runs, "--measure", "nDCG@3")
    assert result.returncode == 0, result.stderr
    a = [evaluate(Run.from_trec(r), read_qrels(people), ["nDCG@3"]).all["nDCG@3"] for r in runs]
    b = [evaluate(Run.from_trec(r), read_qrels(flipped), ["nDCG@3"]).all["nDCG@3"] for r in runs]
    expected = kendalltau(a, b)
    assert expected.statistic == pytest.approx(-1.0)
    assert f"= {expected.statistic:.3f}, p = {expected.pvalue:.4f}, 3 systems" in result.stdout
    lines = result.stdout.splitlines()
    assert lines[5].split() == ["good", f"{a[0]:.4f}", "1", f"{b[0]:.4f}", "3"]
    assert [ln.split()[0] for ln in lines if ln[:3] in ("de ", "en ")] == ["de", "en"]
    assert all(ln.split()[2] == "-1.000" for ln in lines if ln[:3] in ("de ", "en "))


def test_compare_qrels_needs_two_runs(tmp_path):
    runs = write_runs(tmp_path)
    qrels = write(tmp_path / "a.qrels", "en-1 0 d1 1\n")
    result = run_cli("judge", "compare-qrels", qrels, qrels, runs[0])
    assert result.returncode == 2 and "at least 2 runs, got 1" in result.stderr and "Traceback" not in result.stderr


def test_compare_qrels_from_a_project(project, demo):
    from babelir.judge.assign import record

    relevant = {(q.split()[0], q.split()[2]) for q in (demo / "qrels.trec").read_text().splitlines()}
    with Project.open(project) as p:
        p.add_assessor("ana", None, secret="secret-ana")
        pairs = select_pairs(p)
        for x in pairs:
            record(p, "ana", x["id"], 3 if (x["query_id"], x["doc_id"]) in relevant else 0)
    with FakeLLM() as fake:
        prejudge(project, f"llm:{fake.url}", llm_model="m", quiet=True)
    runs = [demo / "near.run", demo / "mixed.run"]
    result = run_cli("judge", "compare-qrels", "--project", project, "--model", "model:llm-m", *runs)
    assert result.returncode == 0, result.stderr
    assert "the people's judgments (72 queries)" in result.stdout and "model:llm-m (72 queries)" in result.stdout
    assert "Kendall tau (scipy tau-b) = " in result.stdout and "2 systems" in result.stdout
    assert "\nar " in result.stdout and "\nzh " in result.stdout  # per language
    missing = run_cli("judge", "compare-qrels", "--project", project, "--model", "model:nobody", *runs)
    assert missing.returncode == 2 and "unknown assessor 'model:nobody'" in missing.stderr


def test_an_endpoint_failing_mid_batch_keeps_what_was_labelled(project):
    """Five replies, then HTTP 500 for good: the five are stored, the error says so, a rerun asks the rest."""
    with FakeLLM() as fake:
        fake.plan = ["ok"] * 5
        fake.default = "500"
        with pytest.raises(BabelirError, match=r"HTTP 500.*\(5 pairs labelled and stored before it; run again"):
            prejudge(project, f"llm:{fake.url}", llm_model="m", limit=20, quiet=True, retries=0)
        assert len(stored(project, "model:llm-m")) == 5
        fake.default = "ok"
        again = prejudge(project, f"llm:{fake.url}", llm_model="m", limit=20, quiet=True)
        assert (again.already, again.asked) == (5, 15)
    assert stored(project, "model:llm-m") == expected_grades(project, 20)


def test_compare_qrels_uses_the_queries_both_judge_and_refuses_none_in_common():
    from babelir.judge.compare import compare_qrels, format_comparison
    from babelir.run import Run
    from babelir.types import Qrel

    runs = {"x": Run({"q1": {"d1": 2.0, "d2": 1.0}, "q2": {"d3": 1.0}}), "y": Run({"q1": {"d2": 2.0, "d1": 1.0}})}
    a = [Qrel("q1", "d1", 1), Qrel("q2", "d3", 1)]
    b = [Qrel("q1", "d1", 1)]
    result = compare_qrels(a, b, runs, "nDCG@10")
    assert result.overall.scores_a == result.overall.scores_b  # q2, which only A judges, is left out
    text = format_comparison(result)
    assert "(2 queries)" in text and "(1 query)" in text and "over the 1 query both judge" in text
    with pytest.raises(BabelirError, match="judge no query in common"):
        compare_qrels(a, [Qrel("q9", "d1", 1)], runs, "nDCG@10")
