import pytest

from babelir.evaluate.compare import compare_runs, holm
from babelir.run import Run
from babelir.types import Qrel


def test_holm_hand_checked():
    # sorted p: .01 x3 = .03; .03 x2 = .06; .04 x1 = .04 -> monotone: .06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def _collection(n=30):
    qrels = [Qrel(f"{lang}-{i}", f"d{i}", 1) for lang in ("en", "th") for i in range(n)]
    good = Run({q.query_id: {q.doc_id: 2.0, "junk": 1.0} for q in qrels})
    bad = Run({q.query_id: {"junk": 2.0, q.doc_id: 1.0} if i % 3 else {q.doc_id: 2.0}
               for i, q in enumerate(qrels)})
    return qrels, good, bad


def test_clear_difference_is_significant_per_language():
    qrels, good, bad = _collection()
    langs = {q.query_id: q.query_id.split("-")[0] for q in qrels}
    rows = compare_runs(bad, good, qrels, ["RR@10"], langs, resamples=2000)
    assert [r.group for r in rows] == ["all", "en", "th"]
    assert rows[0].mean_b > rows[0].mean_a
    for row in rows:
        assert row.p_ttest < 0.001 and row.p_randomization < 0.01
    per_lang = rows[1:]
    assert [r.p_ttest_holm for r in per_lang] == pytest.approx(holm([r.p_ttest for r in per_lang]))
    assert all(r.p_randomization_holm >= r.p_randomization for r in per_lang)


def test_identical_runs_are_not_different():
    qrels, good, _ = _collection(5)
    rows = compare_runs(good, good, qrels, ["nDCG@10"], None, resamples=100)
    assert rows[0].p_ttest == 1.0 and rows[0].p_randomization == 1.0
