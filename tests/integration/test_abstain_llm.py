"""``babelir abstain llm``: NoMIRACL's prompt over a run's top k, asked of the fake local endpoint
(tests/fake_llm.py), alone and gated by babelir's decisions, evaluated by eval-abstain; the errors,
and resuming from the reply cache."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from babelir.abstain.llm import nomiracl_prompt, parse_verdict, yes_probability
from babelir.cli import main
from tests.conftest import cli_in_process, free_port, write
from tests.fake_llm import FakeLLM

pytest.importorskip("sklearn")
pytest.importorskip("relplot")

DOCS = {
    "d1": "The Eiffel Tower was built in 1889 in Paris.",
    "d2": "Madrid is the capital city of Spain.",
    "d3": "Mount Kilimanjaro is the highest mountain in Africa.",
    "d4": "The Amazon river flows through Brazil and Peru.",
    "d5": "Photosynthesis converts sunlight into chemical energy in plants.",
    "d6": "The Great Wall stretches across northern China.",
}
# q1-q4 have an answer (qrels), q5-q8 do not; the fake answers "present" when a passage shares two words
TOPICS = {
    "q1": ("When was the Eiffel Tower built?", "d1"),
    "q2": ("What is the highest mountain in Africa?", "d3"),
    "q3": ("Which river flows through Brazil?", "d4"),
    "q4": ("Where does the Great Wall stretch?", "d6"),
    "q5": ("Who painted Guernica in Spain?", None),
    "q6": ("How do plants absorb water?", None),
    "q7": ("Who designed Paris metro stations?", None),
    "q8": ("What currency does Peru use?", None),
}
# babelir's decisions for the gate: q4 wrongly "none" (an error), q5 wrongly answerable (a hallucination)
GATE = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": True, "q6": False, "q7": False, "q8": False}


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    work = tmp_path_factory.mktemp("abstain_llm")
    write(work / "corpus.jsonl", "".join(json.dumps({"id": d, "text": t, "lang": "en"}) + "\n" for d, t in DOCS.items()))
    write(work / "topics.tsv", "".join(f"{q}\t{text}\n" for q, (text, _) in TOPICS.items()))
    write(work / "qrels.trec", "".join(f"{q} 0 {d} 1\n" for q, (_, d) in TOPICS.items() if d))
    assert main(["index", str(work / "corpus.jsonl"), "-o", str(work / "ix"), "-q"]) == 0
    assert main(["search", str(work / "ix"), "--topics", str(work / "topics.tsv"), "-o", str(work / "run"),
                 "--k", "3", "-q"]) == 0
    decisions = {q: {"lang": "en", "model": "en", "p": 0.9 if a else 0.1, "answerable": a, "threshold": 0.5}
                 for q, a in GATE.items()}
    write(work / "run.abstain.json", json.dumps({"format": 1, "k": 3, "pipeline": "bm25", "calibration": "cal.json",
                                                 "max_hallucination": None, "queries": decisions}))
    return work


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


def llm(capsys, work, url, *more):
    return cli_in_process(capsys, "abstain", "llm", work / "run", "--index", work / "ix", "--topics",
                          work / "topics.tsv", "--llm", url, "--model", "m", "--k", "3", "--retries", "0", "-q", *more)


def rates(capsys, work, abstain_file):
    out = work / "report.json"
    code, _, err = cli_in_process(capsys, "eval-abstain", work / "run", "--qrels", work / "qrels.trec", "--abstain",
                                  abstain_file, "--json", out, "--min-queries", "1")
    assert code == 0, err
    return json.loads(out.read_text())["all"]


def test_llm_alone_and_gated_end_to_end(collection, fake, capsys, tmp_path):
    cache = tmp_path / "cache.sqlite"
    code, out, err = llm(capsys, collection, fake.url, "--cache", cache)
    assert code == 0, err
    assert len(fake.requests) == 8 and "8 made, 0 from the cache" in out
    data = json.loads((collection / "run.llm.abstain.json").read_text())
    queries = data["queries"]
    assert data["format"] == 1 and data["k"] == 3 and data["llm"]["model"] == "m"
    # the fake's log-probabilities give p = (overlap + 0.5) / 4: never exactly 0 or 1
    assert all(0 < d["p"] < 1 and d["answerable"] == (d["p"] >= 0.5) and d["lang"] == "en" for d in queries.values())
    assert [q for q, d in queries.items() if d["answerable"]] == ["q1", "q2", "q3", "q4"]
    assert queries["q1"]["reply"] == "Yes, answer is present" and queries["q5"]["reply"] == "I don't know"
    alone = rates(capsys, collection, collection / "run.llm.abstain.json")
    assert (alone["hallucination"], alone["error"]) == (0.0, 0.0)

    # gated: only babelir's answerable queries are asked, from the cache now
    code, out, err = llm(capsys, collection, fake.url, "--cache", cache, "--gate")
    assert code == 0, err
    assert len(fake.requests) == 8, "the gated run found its 4 replies in the cache"
    assert "0 made, 4 from the cache, 4 saved by babelir's abstention" in out
    gated = json.loads((collection / "run.gated.abstain.json").read_text())
    assert gated["gate"].endswith("run.abstain.json") and gated["pipeline"] == "bm25"
    assert {q for q, d in gated["queries"].items() if d["model"] == "babelir"} == {"q4", "q6", "q7", "q8"}
    both = rates(capsys, collection, collection / "run.gated.abstain.json")
    # q4 was marked "none" by babelir: an error the LLM never saw; q5's hallucination was caught by the LLM
    assert (both["hallucination"], both["error"]) == (0.0, 0.25)

    # with a fresh cache, the gated run makes 4 calls where the LLM alone made 8
    code, out, err = llm(capsys, collection, fake.url, "--cache", tmp_path / "fresh.sqlite", "--gate",
                         "-o", tmp_path / "g.json")
    assert code == 0 and "LLM calls: 4 made, 0 from the cache, 4 saved" in out and len(fake.requests) == 12


def test_the_prompt_holds_the_top_k_in_rank_order(collection, fake, capsys, tmp_path):
    from babelir.run import Run

    code, _, err = llm(capsys, collection, fake.url, "--cache", tmp_path / "c.sqlite", "-o", tmp_path / "o.json")
    assert code == 0, err
    run = Run.from_trec(collection / "run")
    for body in fake.requests:
        prompt = body["messages"][-1]["content"]
        question = re.search(r"QUESTION:\n(.*)\n\nCONTEXTS:", prompt).group(1)
        qid = next(q for q, (text, _) in TOPICS.items() if text == question)
        shown = re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M)
        assert [int(i) for i, _ in shown] == list(range(1, len(shown) + 1))
        assert [text for _, text in shown] == [DOCS[d] for d, _ in run.ranking(qid)[:3]]
        assert prompt.startswith("I will give you a question and several contexts") and prompt.endswith("OUTPUT:\n")
        assert body["logprobs"] is True and body["temperature"] == 0.0


def test_a_malformed_reply_stops_naming_the_query_and_a_rerun_resumes(collection, fake, capsys, tmp_path):
    cache, out_file = tmp_path / "c.sqlite", tmp_path / "o.json"
    fake.plan = ["ok", "ok", "text:Maybe, it could be."]
    code, _, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", out_file)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "query 'q3'" in err and "Maybe, it could be." in err and "2 new replies cached" in err
    assert not out_file.exists(), "no partial output"
    code, _, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", out_file)
    assert code == 0, err
    assert len(fake.requests) == 3 + 6, "the rerun asked only the 6 queries not cached"

    # --skip-bad: a malformed reply is counted and its query left out
    fake.plan = ["text:Maybe."]
    code, out, err = llm(capsys, collection, fake.url, "--cache", tmp_path / "other.sqlite", "-o", out_file,
                         "--skip-bad")
    assert code == 0, err
    assert "1 malformed replies skipped (first: q1: 'Maybe.')" in out
    assert "q1" not in json.loads(out_file.read_text())["queries"]


def test_a_timeout_is_one_line_and_keeps_the_cached_replies(collection, fake, capsys, tmp_path):
    cache = tmp_path / "c.sqlite"
    fake.plan, fake.delay = ["ok", "ok", "ok", "slow"], 1.5
    code, _, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", tmp_path / "o.json", "--timeout", "0.3")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "query 'q4'" in err and "no reply within 0.3 s" in err and "3 new replies cached" in err
    code, out, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", tmp_path / "o.json")
    assert code == 0 and "5 made, 3 from the cache" in out


def test_a_refused_connection_is_one_line_and_a_rerun_resumes(collection, fake, capsys, tmp_path):
    cache = tmp_path / "c.sqlite"
    fake.plan = ["ok", "ok", "close"]  # the server drops the third request
    code, _, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", tmp_path / "o.json")
    assert code == 2 and "query 'q3'" in err and "cannot connect" in err and len(err.strip().splitlines()) == 1
    code, _, err = llm(capsys, collection, f"http://127.0.0.1:{free_port()}/v1", "--cache", cache,
                       "-o", tmp_path / "o.json")
    assert code == 2 and "cannot connect" in err and "query 'q1'" in err and "Traceback" not in err
    assert not (tmp_path / "o.json").exists()
    code, out, err = llm(capsys, collection, fake.url, "--cache", cache, "-o", tmp_path / "o.json")
    assert code == 0 and "6 made, 2 from the cache" in out


def test_refusals(collection, fake, capsys, tmp_path):
    # --gate needs babelir's decisions; -o must not overwrite them
    code, _, err = llm(capsys, collection, fake.url, "--gate", "--abstain", tmp_path / "none.json")
    assert code == 2 and "no such abstain file" in err
    code, _, err = llm(capsys, collection, fake.url, "-o", collection / "run.abstain.json")
    assert code == 2 and "babelir's decisions file" in err
    write(tmp_path / "few.tsv", "q1\tWhen was the Eiffel Tower built?\n")
    code, _, err = cli_in_process(capsys, "abstain", "llm", collection / "run", "--index", collection / "ix",
                                  "--topics", tmp_path / "few.tsv", "--llm", fake.url, "--model", "m")
    assert code == 2 and "no topic for 7 queries" in err
    assert fake.requests == []
    # an LLM's decisions are not a gate
    (tmp_path / "llm.json").write_text('{"format": 1, "k": 3, "llm": {"model": "m"}, "queries": {"q1": {"lang": "en", "p": 1.0, "answerable": true, "threshold": 0.5}}}')
    code, _, err = llm(capsys, collection, fake.url, "--gate", "--abstain", tmp_path / "llm.json")
    assert code == 2 and "an LLM's decisions, not babelir's" in err


def test_parse_verdict_and_probability():
    assert parse_verdict("Yes, answer is present") is True
    assert parse_verdict("I don’t know.") is False and parse_verdict("The answer is not present.") is False
    assert parse_verdict("Yes") is None and parse_verdict("Yes, answer is present. I don't know") is None
    raw = {"choices": [{"logprobs": {"content": [{"token": "Yes", "logprob": math.log(0.6),
                                                  "top_logprobs": [{"token": "Yes", "logprob": math.log(0.6)},
                                                                   {"token": " I", "logprob": math.log(0.2)}]}]}}]}
    assert yes_probability(raw) == pytest.approx(0.75)
    assert yes_probability({"choices": [{"message": {"content": "x"}}]}) is None
    assert nomiracl_prompt("q?", [("T", "a b c")]).count("[1] T: a b c") == 1
