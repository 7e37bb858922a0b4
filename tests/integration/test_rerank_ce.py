"""ce:DIR: a tiny cross-encoder built in the session reranks in the order of CrossEncoder.predict."""

from __future__ import annotations

import numpy as np
import pytest

from babelir.errors import BabelirError
from babelir.retrieve.rerank import Rerank, latency_line
from babelir.run import Run
from tests.tiny_models import build_tiny_bert
from tests.unit.test_rerank import DOCS, FIRST, QUERIES, make_index


@pytest.fixture(scope="module")
def tiny_ce(tmp_path_factory):
    """A 2-layer BertForSequenceClassification (one label, random weights) saved as a plain
    transformers directory."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    folder = build_tiny_bert(tmp_path_factory.mktemp("tiny-ce"))
    config = BertConfig.from_pretrained(folder, num_labels=1, initializer_range=0.5)  # spread-out scores
    torch.manual_seed(1)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture
def index(tmp_path):
    ix = make_index(tmp_path / "ix")
    yield ix
    ix.close()


def passage(doc_id):
    doc = next(d for d in DOCS if d.id == doc_id)
    return "\n".join(p for p in (doc.title, doc.text) if p)


@pytest.mark.parametrize("backend", ["st", "hf"])
def test_ce_order_is_the_order_of_crossencoder_predict(tiny_ce, index, backend):
    from sentence_transformers import CrossEncoder

    stage = Rerank(f"ce:{tiny_ce}", depth=5, batch_size=2, index=index, backend=backend, cache=False, quiet=True)
    run = stage.transform(QUERIES, FIRST)
    stage.close()
    model = CrossEncoder(str(tiny_ce), device="cpu", local_files_only=True)
    for query in QUERIES:
        head = [d for d, _ in FIRST.ranking(query.id)[:5]]
        expected = np.asarray(model.predict([(query.text, passage(d)) for d in head]), dtype=float)
        assert len(set(expected.round(6))) == 5  # distinct scores: the order is a real test
        by_predict = [head[i] for i in np.argsort(-expected, kind="stable")]
        ranked = [d for d, _ in run.ranking(query.id)]
        assert ranked[:5] == by_predict and ranked[5:] == [d for d, _ in FIRST.ranking(query.id)[5:]]
        assert [run[query.id][d] for d in by_predict] == pytest.approx(np.sort(expected)[::-1], abs=1e-5)


def test_ce_scores_are_cached_and_reused(tiny_ce, index):
    first = Rerank(f"ce:{tiny_ce}", depth=4, index=index, quiet=True)
    run = first.transform(QUERIES, FIRST)
    first.close()
    assert (first.computed, first.cached) == (8, 0)
    again = Rerank(f"ce:{tiny_ce}", depth=6, index=index, quiet=True)
    deeper = again.transform(QUERIES, FIRST)
    again.close()
    assert (again.computed, again.cached) == (4, 8)
    head = [d for d, _ in FIRST.ranking("q1")[:4]]
    assert {d: deeper["q1"][d] for d in head} == {d: run["q1"][d] for d in head}  # the cached scores
    shorter = Rerank(f"ce:{tiny_ce}", depth=4, index=index, max_length=8, quiet=True)
    shorter.transform(QUERIES, FIRST)
    assert shorter.computed == 8  # another max_length is another model id
    assert "max_length=8" in shorter.describe() and "8 scores: 0 from the cache" in latency_line(shorter)


def test_ce_reports_latency(tiny_ce, index):
    stage = Rerank(f"ce:{tiny_ce}", depth=6, index=index, cache=False, quiet=True)
    stage.transform(QUERIES * 5, FIRST)
    stats = stage.latency()
    assert stats["count"] == 10 and 0 < stats["p50"] <= stats["p95"] < 5
    stage.close()


def test_a_directory_without_a_model_is_a_one_line_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BabelirError, match="cannot load a cross-encoder") as err:
        Rerank(f"ce:{tmp_path}", backend="hf")
    assert "\n" not in str(err.value)


def test_an_empty_run_is_returned_empty(tiny_ce, index):
    stage = Rerank(f"ce:{tiny_ce}", index=index, quiet=True)
    assert stage.transform(QUERIES, Run({})) == Run({"q1": {}, "q2": {}}) or not stage.transform(QUERIES, Run({}))["q1"]
