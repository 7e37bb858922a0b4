"""The rerank stage: score order, the cache, latency, errors; the LLM reranker against the fake endpoint."""

from __future__ import annotations

import pytest

from babelir.errors import BabelirError
from babelir.index.core import Index
from babelir.retrieve.rerank import Rerank, ScoreCache, combine, latency_line
from babelir.retrieve.rerankers.llm import parse_permutation
from babelir.run import Run
from babelir.types import Doc, Query
from tests.fake_llm import FakeLLM

DOCS = [Doc("d1", "the moon and the sea", title="Moon", lang="en"),
        Doc("d2", "ocean tides follow the moon", lang="en"),
        Doc("d3", "coffee beans from the highlands", lang="en"),
        Doc("d4", "volcano magma under the earth", lang="en"),
        Doc("d5", "the ocean tides and the moon pull", lang="en"),
        Doc("d6", "elephant herds cross the river", lang="en")]
QUERIES = [Query("q1", "moon ocean tides", lang="en"), Query("q2", "volcano magma earth", lang="en")]
FIRST = Run({"q1": {"d1": 6, "d2": 5, "d3": 4, "d4": 3, "d5": 2, "d6": 1},
             "q2": {"d3": 6, "d1": 5, "d4": 4, "d6": 3, "d2": 2, "d5": 1}}, name="first")


def make_index(folder):
    """A six-document English index (texts above) in ``folder``, opened for reading."""
    with Index.create(folder) as ix:
        ix.add(DOCS)
    return Index.open(folder)


@pytest.fixture
def index(tmp_path):
    ix = make_index(tmp_path / "ix")
    yield ix
    ix.close()


def test_combine_orders_by_score_keeps_ties_in_incoming_order_and_puts_the_rest_below():
    out = Run({"q": combine(["a", "b", "c", "d"], [1.0, 3.0, 1.0, 1.0], ["e", "f"])})
    assert [d for d, _ in out.ranking("q")] == ["b", "a", "c", "d", "e", "f"]
    scores = [s for _, s in out.ranking("q")]
    assert all(x > y for x, y in zip(scores, scores[1:]))
    assert out["q"]["b"] == 3.0 and out["q"]["a"] == 1.0 and out["q"]["c"] == pytest.approx(1.0, abs=1e-12)
    assert out["q"]["e"] == out["q"]["d"] - 1 and out["q"]["f"] == out["q"]["d"] - 2


@pytest.mark.parametrize("reply, order", [("[2] > [1] > [3]", [1, 0, 2]), ("[3] > [3] > [7] > [1]", [2, 0, 1]),
                                          ("[2]", [1, 0, 2]), ("2 > 3 > 1", [1, 2, 0]),
                                          ("Ranking: [3] > [2] > [1]. Done, 4 passages", [2, 1, 0])])
def test_parse_permutation_repairs_a_listwise_reply(reply, order):
    assert parse_permutation(reply, 3) == order


def test_parse_permutation_without_an_id_is_none():
    assert parse_permutation("I cannot rank these passages.", 3) is None
    assert parse_permutation("[0] > [4]", 3) is None


def test_score_cache_keys_on_model_query_doc_and_text(tmp_path):
    cache = ScoreCache(tmp_path / "c.sqlite")
    cache.put("m", "q", [("d1", "h1", 0.5), ("d2", "h2", 0.25)])
    assert cache.get("m", "q", [("d1", "h1"), ("d2", "h2"), ("d3", "h3")]) == {("d1", "h1"): 0.5, ("d2", "h2"): 0.25}
    assert cache.get("m", "q", [("d1", "changed")]) == {}
    assert cache.get("other", "q", [("d1", "h1")]) == {} and cache.get("m", "q2", [("d1", "h1")]) == {}
    cache.put_window("m", "q", [["d1", "h1"], ["d2", "h2"]], [1, 0])
    assert cache.get_window("m", "q", [["d1", "h1"], ["d2", "h2"]]) == [1, 0]
    assert cache.get_window("m", "q", [["d2", "h2"], ["d1", "h1"]]) is None
    cache.close()


def test_cache_goes_to_babelir_cache_dir(tmp_path, monkeypatch, index):
    monkeypatch.setenv("BABELIR_CACHE_DIR", str(tmp_path / "mine"))
    with FakeLLM() as fake:
        stage = Rerank(f"llm:{fake.url}", depth=2, index=index, model="m", scoring="grade", retries=0)
        stage.transform(QUERIES[:1], FIRST)
        stage.close()
    assert (tmp_path / "mine" / "rerank.sqlite").is_file()


@pytest.mark.parametrize("spec, options, message", [
    ("bm25", {}, "unknown reranker"), ("xx:foo", {}, "unknown reranker"), ("llm:", {}, "needs a URL"),
    ("llm:http://127.0.0.1:9/v1", {"colour": 1}, "unknown option 'colour'"),
    ("llm:http://127.0.0.1:9/v1", {"strategy": "pairwise"}, "strategy must be"),
    ("llm:http://127.0.0.1:9/v1", {"window": "1"}, "window must be >= 2"),
    ("llm:http://127.0.0.1:9/v1", {"window": 4, "step": 5}, "must not exceed window"),
    ("llm:ftp://x", {}, "http:// or https://"), ("ce:/nonexistent/dir", {}, "no config.json")])
def test_bad_specs_and_options_are_one_line_errors(spec, options, message):
    with pytest.raises(BabelirError, match=message) as err:
        Rerank(spec, **options)
    assert "\n" not in str(err.value)


def test_depth_and_batch_size_are_checked():
    with pytest.raises(BabelirError, match="depth"):
        Rerank("llm:http://127.0.0.1:9/v1", depth=0)
    with pytest.raises(BabelirError, match="batch_size"):
        Rerank("llm:http://127.0.0.1:9/v1", batch_size="8")


def test_rerank_needs_a_run_and_an_index(index):
    stage = Rerank("llm:http://127.0.0.1:9/v1", model="m")
    with pytest.raises(BabelirError, match="needs a first stage's Run"):
        stage.transform(QUERIES, None)
    with pytest.raises(BabelirError, match="needs an index"):
        stage.transform(QUERIES, FIRST)


def test_a_document_missing_from_the_index_is_named(index):
    stage = Rerank("llm:http://127.0.0.1:9/v1", model="m", index=index)
    with pytest.raises(BabelirError, match="document 'nope' of the Run is not in the index"):
        stage.transform(QUERIES[:1], Run({"q1": {"d1": 2.0, "nope": 1.0}}))


def test_pointwise_grades_rerank_the_top_depth_and_keep_the_rest(index):
    with FakeLLM() as fake:
        stage = Rerank(f"llm:{fake.url}", depth=4, index=index, model="m", scoring="grade", retries=0, cache=False)
        run = stage.transform(QUERIES[:1], FIRST)
        stage.close()
    # grades by word overlap with "moon ocean tides": d1 1, d2 3, d3 0, d4 0; d5 and d6 below depth
    assert [d for d, _ in run.ranking("q1")] == ["d2", "d1", "d3", "d4", "d5", "d6"]
    assert run["q1"]["d2"] == 3.0 and run["q1"]["d1"] == 1.0
    assert min(run["q1"][d] for d in ("d1", "d2", "d3", "d4")) > max(run["q1"]["d5"], run["q1"]["d6"])
    assert len(fake.requests) == 4 and fake.requests[0]["model"] == "m"
    assert "Passage: Moon\nthe moon and the sea" in fake.requests[0]["messages"][-1]["content"]


def test_latency_and_its_line(index):
    with FakeLLM() as fake:
        stage = Rerank(f"llm:{fake.url}", depth=3, index=index, model="m", scoring="grade", retries=0, cache=False)
        assert stage.latency() == {"count": 0, "mean": None, "p50": None, "p95": None}
        stage.transform(QUERIES, FIRST)
        stage.close()
    stats = stage.latency()
    assert stats["count"] == 2 and 0 < stats["p50"] <= stats["p95"] and stats["mean"] > 0
    line = latency_line(stage)
    assert line.startswith(f"{stage.describe()}: 2 queries, mean ") and "(6 scores: 0 from the cache)" in line
    assert latency_line(object()) == ""


def test_describe_gives_the_spec_syntax():
    stage = Rerank("llm:http://127.0.0.1:9/v1", depth=50, model="qwen", strategy="listwise")
    assert stage.describe() == "rerank(llm:http://127.0.0.1:9/v1,depth=50,model=qwen,strategy=listwise)"
    assert Rerank("llm:http://127.0.0.1:9/v1", batch_size=8).describe() == \
        "rerank(llm:http://127.0.0.1:9/v1,depth=100,batch_size=8)"


def test_rerank_composes_after_a_first_stage_and_takes_its_index(index):
    from babelir.retrieve.stage import BM25, Then

    with FakeLLM() as fake:
        pipeline = BM25(index) >> Rerank(f"llm:{fake.url}", depth=3, model="m", scoring="grade", retries=0)
        assert isinstance(pipeline, Then) and pipeline.second.index is index
        assert pipeline.describe() == f"bm25 >> rerank(llm:{fake.url},depth=3,model=m,retries=0,scoring=grade)"
        assert pipeline.input_depth(2) == 3
        run = pipeline.retrieve(QUERIES[:1], k=2)
        pipeline.second.close()
    bm25 = [d for d, _ in BM25(index).retrieve(QUERIES[:1], k=3).ranking("q1")]
    # the fake grades d2 and d5 3 (all three query words), anything else less; equal grades keep BM25's order
    assert [d for d, _ in run.ranking("q1")] == [d for d in bm25 if d in ("d2", "d5")]
    assert len(fake.requests) == 3
    assert latency_line(pipeline).startswith("rerank(llm:")
