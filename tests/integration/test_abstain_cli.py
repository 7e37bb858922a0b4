"""Calibrated abstention end to end on XQuAD-R's Thai no-answer split: datasets --no-answer-split,
index, abstain calibrate, search --abstain, eval-abstain, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelir.cli import main

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xquad-r"
pytestmark = pytest.mark.skipif(not (DATA / "th.json").exists(), reason="XQuAD-R is not in ../shared/data")
pytest.importorskip("sklearn")
pytest.importorskip("relplot")


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A BM25 index of the Thai no-answer collection, calibrated (stored inside the index) on the
    train articles."""
    work = tmp_path_factory.mktemp("abstain")
    assert main(["datasets", "xquad-r", str(DATA), "-o", str(work / "col"), "--no-answer-split"]) == 0
    col = work / "col" / "th"
    assert main(["index", str(col / "corpus.jsonl"), "-o", str(work / "ix"), "-q"]) == 0
    assert main(["abstain", "calibrate", str(work / "ix"), "--topics", str(col / "topics.train.tsv"),
                 "--qrels", str(col / "qrels.train.trec"), "--mode", "bm25", "-q"]) == 0
    return work, col


def test_search_marks_each_query_and_eval_abstain_measures_it(calibrated, capsys):
    work, col = calibrated
    run = work / "th.run"
    assert main(["search", str(work / "ix"), "--topics", str(col / "topics.test.tsv"), "-o", str(run),
                 "--abstain", "-q"]) == 0
    assert "answerable: " in capsys.readouterr().err
    data = json.loads(Path(f"{run}.abstain.json").read_text())
    topics = [line.split("\t")[0] for line in (col / "topics.test.tsv").read_text().splitlines()]
    assert set(data["queries"]) == set(topics) and data["k"] == 10
    decisions = data["queries"].values()
    assert all(0 <= d["p"] <= 1 and d["answerable"] == (d["p"] >= d["threshold"] - 1e-6) for d in decisions)
    assert {d["lang"] for d in decisions} == {"th"}
    # the run file stays plain TREC: six columns
    assert all(len(line.split()) == 6 for line in run.read_text().splitlines())

    out = work / "report.json"
    assert main(["eval-abstain", str(run), "--qrels", str(col / "qrels.test.trec"), "--json", str(out)]) == 0
    row = json.loads(out.read_text())["th"]
    assert row["with_answer"] == 179 and row["without_answer"] == 117
    # calibrated on train articles, BM25 alone separates the subsets far better than chance
    assert row["hallucination"] < 0.35 and row["error"] < 0.35

    # qrels of other topics, and --plots naming a file, are refused before anything is printed
    assert main(["eval-abstain", str(run), "--qrels", str(work / "col" / "de" / "qrels.test.trec")]) == 2
    assert main(["eval-abstain", str(run), "--qrels", str(col / "qrels.test.trec"), "--plots", str(run)]) == 2
    err = capsys.readouterr().err
    assert "judges none of the 296 queries" in err and "not a directory" in err

    # a stricter hallucination bound marks fewer queries answerable
    strict = work / "strict.run"
    assert main(["search", str(work / "ix"), "--topics", str(col / "topics.test.tsv"), "-o", str(strict),
                 "--abstain", "--max-hallucination", "0.02", "-q"]) == 0
    answered = sum(d["answerable"] for d in json.loads(Path(f"{strict}.abstain.json").read_text())["queries"].values())
    assert answered < sum(d["answerable"] for d in decisions)


def test_one_query_gets_a_verdict(calibrated, capsys):
    work, col = calibrated
    question = (col / "topics.test.tsv").read_text().splitlines()[0].split("\t")[1]
    assert main(["search", str(work / "ix"), "--query", question, "--abstain"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(("answerable: P(relevant in top 10) = ", "no relevant passage found: P(relevant in top 10) = "))


def test_refusals(calibrated, capsys, tmp_path):
    work, col = calibrated
    topics = str(col / "topics.test.tsv")
    # no calibration for this pipeline (bm25 without group evidence)
    assert main(["search", str(work / "ix"), "--topics", topics, "-o", str(tmp_path / "r"), "--pipeline", "bm25",
                 "--abstain"]) == 2
    assert "no calibration for the pipeline 'bm25'" in capsys.readouterr().err
    # a calibration file made for another pipeline
    stored = next((work / "ix" / "calibration").glob("*.json"))
    assert main(["search", str(work / "ix"), "--topics", topics, "-o", str(tmp_path / "r"), "--pipeline", "bm25",
                 "--abstain", str(stored)]) == 2
    assert "calibrated for the pipeline 'bm25 >> group(weight=1.0)', not 'bm25'" in capsys.readouterr().err
    # ... or for another index
    assert main(["index", str(col / "corpus.jsonl"), "-o", str(tmp_path / "ix2"), "-q"]) == 0
    assert main(["search", str(tmp_path / "ix2"), "--topics", topics, "-o", str(tmp_path / "r"),
                 "--abstain", str(stored)]) == 2
    assert "calibrated on another index" in capsys.readouterr().err
    assert main(["search", str(work / "ix"), "--topics", topics, "-o", str(tmp_path / "r"),
                 "--max-hallucination", "0.1"]) == 2
    assert "--max-hallucination goes with --abstain" in capsys.readouterr().err
    # calibrating on topics whose qrels name none of them
    assert main(["abstain", "calibrate", str(work / "ix"), "--topics", topics,
                 "--qrels", str(col / "qrels.train.trec")]) == 2
    assert "no relevant document for any topic" in capsys.readouterr().err
    # ... or on topics that all have an answer
    answered = tmp_path / "answered.tsv"
    relevant = {line.split()[0] for line in (col / "qrels.train.trec").read_text().splitlines()}
    answered.write_text("".join(line + "\n" for line in (col / "topics.train.tsv").read_text().splitlines()
                                if line.split("\t")[0] in relevant))
    assert main(["abstain", "calibrate", str(work / "ix"), "--topics", str(answered),
                 "--qrels", str(col / "qrels.train.trec"), "-o", str(tmp_path / "c.json")]) == 2
    assert "calibration needs queries with and without one" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()
    assert not (tmp_path / "r").exists()
