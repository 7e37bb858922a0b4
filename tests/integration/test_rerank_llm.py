"""The LLM reranker end to end against the fake OpenAI-compatible endpoint: both strategies, the
errors (malformed reply, timeout, refused connection) and resuming from the cache after an error."""

from __future__ import annotations

import time

import pytest

from babelir.errors import BabelirError
from babelir.retrieve.rerank import Rerank
from tests.conftest import free_port
from tests.fake_llm import FakeLLM
from tests.unit.test_rerank import FIRST, QUERIES, make_index


@pytest.fixture
def index(tmp_path):
    ix = make_index(tmp_path / "ix")
    yield ix
    ix.close()


@pytest.fixture
def fake():
    with FakeLLM() as server:
        yield server


def rerank(fake, index, **options):
    options = {"model": "m", "retries": 0, "backoff": 0, "index": index, "quiet": True, **options}
    return Rerank(f"llm:{fake.url}", **options)


def test_pointwise_uses_yes_probabilities_when_the_server_gives_logprobs(fake, index):
    stage = rerank(fake, index, depth=6)
    run = stage.transform(QUERIES[:1], FIRST)
    stage.close()
    assert stage.reranker.mode == "logprobs"
    assert [d for d, _ in run.ranking("q1")][:3] == ["d2", "d5", "d1"]
    assert run["q1"]["d2"] == pytest.approx(3.5 / 4) and run["q1"]["d1"] == pytest.approx(1.5 / 4)
    assert len(fake.requests) == 6 and all(r["logprobs"] and r["max_tokens"] == 1 for r in fake.requests)


def test_pointwise_falls_back_to_the_grade_without_logprobs(fake, index):
    fake.logprobs = False
    stage = rerank(fake, index, depth=6)
    run = stage.transform(QUERIES[:1], FIRST)
    stage.close()
    assert stage.reranker.mode == "grade"
    assert run["q1"]["d2"] == 3.0 and run["q1"]["d5"] == pytest.approx(3.0) and run["q1"]["d1"] == 1.0
    assert [d for d, _ in run.ranking("q1")][:3] == ["d2", "d5", "d1"]
    assert len(fake.requests) == 7  # the probe (yes/no, no logprobs came) and six grade prompts
    assert "##final score" in fake.requests[-1]["messages"][-1]["content"]


def test_scoring_logprobs_refuses_a_server_without_them(fake, index):
    fake.logprobs = False
    stage = rerank(fake, index, depth=3, scoring="logprobs")
    with pytest.raises(BabelirError, match="no log-probabilities"):
        stage.transform(QUERIES[:1], FIRST)
    stage.close()


def test_listwise_slides_a_window_from_the_bottom_to_the_top(fake, index):
    stage = rerank(fake, index, depth=6, strategy="listwise", window=3, step=2)
    run = stage.transform(QUERIES, FIRST)
    stage.close()
    # windows over positions [3,6), [1,4), [0,3): three requests per query
    assert len(fake.requests) == 6
    assert [d for d, _ in run.ranking("q1")] == ["d2", "d5", "d1", "d3", "d4", "d6"]
    assert [d for d, _ in run.ranking("q2")][0] == "d4"
    assert sorted(run["q1"].values()) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    first_window = [m["content"] for m in fake.requests[0]["messages"] if m["content"].startswith("[")]
    assert [c[:4] for c in first_window] == ["[1] ", "[2] ", "[3] "] and "coffee" not in first_window[0]


def test_listwise_repairs_a_partial_permutation(fake, index):
    fake.plan = ["text:[2] > [2] > [9]"]
    stage = rerank(fake, index, depth=3, strategy="listwise", window=3)
    run = stage.transform(QUERIES[:1], FIRST)
    stage.close()
    assert [d for d, _ in run.ranking("q1")] == ["d2", "d1", "d3", "d4", "d5", "d6"]


@pytest.mark.parametrize("plan, strategy, message", [
    (["malformed"], "pointwise", "the reply is not JSON"), (["nochoices"], "pointwise", "no choices"),
    (["text:I would rather not."], "pointwise", "neither yes nor no"),
    (["text:These all look fine."], "listwise", r"no passage id \[1\]..\[3\]")])
def test_a_malformed_reply_is_a_one_line_error(fake, index, plan, strategy, message):
    fake.plan = plan
    stage = rerank(fake, index, depth=3, strategy=strategy)
    with pytest.raises(BabelirError, match=message) as err:
        stage.transform(QUERIES[:1], FIRST)
    stage.close()
    assert "\n" not in str(err.value) and fake.url in str(err.value)


def test_a_reply_without_a_grade_is_a_one_line_error(fake, index):
    fake.plan = ["text:I cannot tell."]
    stage = rerank(fake, index, depth=3, scoring="grade")
    with pytest.raises(BabelirError, match="no 0-3 grade in the reply for document 'd1'"):
        stage.transform(QUERIES[:1], FIRST)


def test_a_timeout_is_a_one_line_error_after_the_retries(fake, index):
    fake.default, fake.delay = "slow", 1.5
    stage = rerank(fake, index, depth=3, timeout=0.3, retries=1)
    started = time.perf_counter()
    with pytest.raises(BabelirError, match=r"no reply within 0.3 s \(after 2 attempts\)") as err:
        stage.transform(QUERIES[:1], FIRST)
    assert time.perf_counter() - started < 3 and "\n" not in str(err.value)
    stage.close()


def test_a_refused_connection_is_a_one_line_error(index):
    stage = Rerank(f"llm:http://127.0.0.1:{free_port()}/v1", model="m", retries=1, backoff=0, index=index, quiet=True)
    with pytest.raises(BabelirError, match=r"cannot connect .*\(after 2 attempts\)") as err:
        stage.transform(QUERIES[:1], FIRST)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("options, total", [({"scoring": "grade"}, 12), ({}, 12),
                                            ({"strategy": "listwise", "window": 3, "step": 1}, 8)])
def test_a_rerun_after_an_error_asks_only_what_is_missing(fake, index, options, total):
    # pointwise: 2 queries x 6 documents; listwise: windows [3,6) [2,5) [1,4) [0,3) per query
    fake.plan = ["ok"] * 5 + ["malformed"]
    stage = rerank(fake, index, depth=6, **options)
    with pytest.raises(BabelirError):
        stage.transform(QUERIES, FIRST)
    stage.close()
    assert len(fake.requests) == 6
    again = rerank(fake, index, depth=6, **options)
    run = again.transform(QUERIES, FIRST)
    again.close()
    assert len(fake.requests) == 6 + total - 5  # the 5 answered before the error are not asked again
    fresh = rerank(fake, index, depth=6, cache=False, **options)
    assert fresh.transform(QUERIES, FIRST) == run
    fresh.close()
    third = rerank(fake, index, depth=6, **options)
    third.transform(QUERIES, FIRST)
    assert third.computed == 0 and third.cached == 12 and "12 scores: 12 from the cache" in \
        __import__("babelir.retrieve.rerank", fromlist=["x"]).latency_line(third)


def test_babelir_search_with_a_rerank_pipeline_prints_the_rerank_latency(fake, tmp_path, capsys, monkeypatch):
    """``babelir search --pipeline "bm25 >> rerank(llm:…)"``: the run is reranked, and stderr ends with
    the latency line of the rerank stage."""
    import re

    from babelir.cli import main
    from babelir.run import Run

    monkeypatch.setenv("BABELIR_CACHE_DIR", str(tmp_path / "cache"))
    make_index(tmp_path / "cli-ix").close()
    (tmp_path / "topics.tsv").write_text("".join(f"{q.id}\t{q.text}\ten\n" for q in QUERIES), encoding="utf-8")
    spec = f"bm25 >> rerank(llm:{fake.url},depth=3,model=m,retries=0,scoring=grade)"
    code = main(["search", str(tmp_path / "cli-ix"), "--topics", str(tmp_path / "topics.tsv"),
                 "-o", str(tmp_path / "r.run"), "-q", "--pipeline", spec])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = err.strip().splitlines()
    assert lines[-2].startswith(f"wrote {tmp_path / 'r.run'}: 2 queries")
    line = re.fullmatch(r"latency: rerank\(llm:\S+,depth=3,\S*\): 2 queries, mean [\d.]+ ms, p50 [\d.]+ ms, "
                        r"p95 [\d.]+ ms per query \((\d+) scores: 0 from the cache\)", lines[-1])
    assert line, lines[-1]
    # bm25 finds d1, d2, d5 for q1 and d4 for q2: four documents above depth 3, one request each
    assert int(line.group(1)) == len(fake.requests) == 4
    run = Run.from_trec(tmp_path / "r.run")
    assert [d for d, _ in run.ranking("q1")][0] in ("d2", "d5")  # the fake grades these two 3 for q1


def test_babelir_search_without_a_rerank_prints_no_latency_line(tmp_path, capsys):
    from babelir.cli import main

    make_index(tmp_path / "cli-ix").close()
    (tmp_path / "topics.tsv").write_text("".join(f"{q.id}\t{q.text}\ten\n" for q in QUERIES), encoding="utf-8")
    code = main(["search", str(tmp_path / "cli-ix"), "--topics", str(tmp_path / "topics.tsv"),
                 "-o", str(tmp_path / "r.run"), "-q", "--pipeline", "bm25"])
    err = capsys.readouterr().err
    assert code == 0 and "latency" not in err and err.startswith("wrote"), err
