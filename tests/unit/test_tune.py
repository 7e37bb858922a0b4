"""Per-language fusion weights picked on a dev split (babelir tune)."""

import pytest

from babelir.errors import BabelirError
from babelir.run import Run
from babelir.tune import is_dev, tune_weights, weight_grid
from babelir.types import Qrel, Query


def test_weight_grid_and_dev_split():
    assert weight_grid(2, 0.25) == [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5), (0.75, 0.25), (1.0, 0.0)]
    assert len(weight_grid(3, 0.1)) == 66 and all(abs(sum(w) - 1) < 1e-9 for w in weight_grid(3, 0.1))
    with pytest.raises(BabelirError, match="must divide 1"):
        weight_grid(2, 0.3)
    ids = [f"q{i}" for i in range(2000)]
    share = sum(is_dev(i, 0.3) for i in ids) / len(ids)
    assert 0.25 < share < 0.35 and [is_dev(i, 0.3) for i in ids] == [is_dev(i, 0.3) for i in ids]


def test_each_language_gets_the_weights_of_the_run_that_finds_its_answers():
    """Run A ranks the answer first for English queries, run B for German ones."""
    queries, qrels, a, b = [], [], {}, {}
    for i in range(40):
        lang = "en" if i % 2 else "de"
        qid = f"{lang}-{i}"
        queries.append(Query(qid, "x", lang))
        qrels.append(Qrel(qid, "answer", 1))
        good, bad = {"answer": 3.0, "n1": 2.0, "n2": 1.0}, {"n1": 3.0, "n2": 2.0, "answer": 1.0}
        a[qid], b[qid] = (good, bad) if lang == "en" else (bad, good)
    outcome = {o.lang: o for o in tune_weights([Run(a), Run(b)], queries, qrels, "linear", step=0.25)}
    assert outcome["en"].weights[0] > 0.5 > outcome["de"].weights[0]
    assert outcome["en"].held_out_tuned == pytest.approx(1.0) and outcome["en"].held_out_equal < 1.0
    assert outcome["en"].dev_queries + outcome["en"].held_out_queries == 20
    with pytest.raises(BabelirError, match="no query of the topics"):
        tune_weights([Run(a), Run(b)], queries, [Qrel("other", "d", 1)])


def test_a_language_without_dev_queries_keeps_equal_weights_and_bad_steps_are_refused():
    a = {"q1": {"d1": 2.0, "d2": 1.0}}
    b = {"q1": {"d2": 2.0, "d1": 1.0}}
    queries = [Query("q1", "one question", "ru")]
    qrels = [Qrel("q1", "d1", 1)]
    fraction = 0.5 if not is_dev("q1", 0.5) else 0.01  # q1 outside the dev split
    assert not is_dev("q1", fraction)
    (outcome,) = tune_weights([Run(a), Run(b)], queries, qrels, "linear", dev_fraction=fraction, step=0.5)
    assert not outcome.tuned and outcome.weights == (0.5, 0.5) and outcome.dev_queries == 0
    for step in (0, -0.1, float("nan"), 0.3):
        with pytest.raises(BabelirError, match="--step"):
            weight_grid(2, step)


def test_queries_without_a_language_are_grouped_as_search_analyses_them():
    """A review found tune detecting among the index's language codes while search weighs them by
    their document counts: a query with little evidence ("hospital") was tuned as German and
    searched as English. Given the counts, both agree."""
    from babelir.text.langid import detect

    held = {"en": 900, "de": 100}
    queries = [Query(f"q{i}", "hospital") for i in range(8)]
    qrels = [Qrel(q.id, "answer", 1) for q in queries]
    run = Run({q.id: {"answer": 1.0, "other": 0.5} for q in queries})
    outcome = tune_weights([run, run], queries, qrels, "linear", step=0.5, among=held)
    assert [o.lang for o in outcome] == [detect("hospital", among=held)] == ["en"]
    assert detect("hospital", among=tuple(held)) == "de"  # without the counts: what tune used to group by
