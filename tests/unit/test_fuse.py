import pytest

from babelir.errors import BabelirError
from babelir.fuse import linear, rrf, zscore
from babelir.run import Run

A = Run({"q": {"d1": 3.0, "d2": 2.0, "d3": 1.0}})
B = Run({"q": {"d3": 0.9, "d1": 0.5}, "q2": {"d9": 1.0}})


def test_rrf_hand_checked():
    fused = rrf([A, B], k=60)
    assert fused["q"]["d1"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["q"]["d2"] == pytest.approx(1 / 62)
    assert fused["q"]["d3"] == pytest.approx(1 / 63 + 1 / 61)
    assert [d for d, _ in fused.ranking("q")] == ["d1", "d3", "d2"]
    assert fused["q2"] == {"d9": pytest.approx(1 / 61)}


def test_linear_min_max_normalised():
    fused = linear([A, B], [0.25, 0.75])
    # A: d1 1.0, d2 0.5, d3 0.0; B: d3 1.0, d1 0.0
    assert fused["q"] == pytest.approx({"d1": 0.25, "d2": 0.125, "d3": 0.75})
    assert fused["q2"] == {"d9": pytest.approx(0.75)}  # a single score normalises to 1


def test_zscore_hand_checked():
    fused = zscore([A, B], [0.5, 0.5])
    # A: mean 2, sd sqrt(2/3): d1 +1.2247, d2 0, d3 -1.2247; B: mean 0.7, sd 0.2: d3 +1, d1 -1, d2 missing -> -1
    assert fused["q"] == pytest.approx({"d1": 0.5 * 1.224745 - 0.5, "d2": -0.5, "d3": -0.5 * 1.224745 + 0.5})
    assert [d for d, _ in fused.ranking("q")] == ["d1", "d3", "d2"]
    assert fused["q2"] == pytest.approx({"d9": 0.5})  # one document: z +1 against an unreturned one at 0
    with pytest.raises(BabelirError, match="2 runs but 3 weights"):
        zscore([A, B], [1, 1, 1])


def test_fusion_is_pure():
    before = {q: dict(A[q]) for q in A}
    rrf([A, B])
    linear([A, B])
    zscore([A, B])
    assert {q: dict(A[q]) for q in A} == before


def test_linear_weights_must_match():
    with pytest.raises(BabelirError, match="2 runs but 1 weights"):
        linear([A, B], [1.0])


def test_group_evidence_lifts_the_neighbours_of_the_best_match():
    from babelir.fuse import group_evidence

    run = Run({"q": {"p1-s1": 5.0, "p2-s1": 3.0, "p1-s2": 2.9, "lone": 1.0, "p2-s2": 0.0}})
    groups = {"p1-s1": "p1", "p1-s2": "p1", "p2-s1": "p2", "p2-s2": "p2"}
    boosted = group_evidence(run, groups, weight=1.0)
    order = [d for d, _ in boosted.ranking("q")]
    assert order[:2] == ["p1-s1", "p1-s2"]  # p1-s2 overtakes p2-s1: its paragraph holds the best match
    plain = group_evidence(run, groups, weight=0.0)
    assert [d for d, _ in plain.ranking("q")] == [d for d, _ in run.ranking("q")]
    # hand check: doc z-scores; group scores = best doc z per group, standardised over p1, p2, lone
    values = [5.0, 3.0, 2.9, 1.0, 0.0]
    mean = sum(values) / 5
    sd = (sum((v - mean) ** 2 for v in values) / 5) ** 0.5
    z = {d: (v - mean) / sd for d, v in run["q"].items()}
    best = [z["p1-s1"], z["p2-s1"], z["lone"]]
    gm = sum(best) / 3
    gsd = (sum((v - gm) ** 2 for v in best) / 3) ** 0.5
    assert boosted["q"]["p1-s2"] == pytest.approx(z["p1-s2"] + (z["p1-s1"] - gm) / gsd)
    assert boosted["q"]["lone"] == pytest.approx(z["lone"] + (z["lone"] - gm) / gsd)


def test_group_evidence_cuts_at_depth_and_keeps_empty_queries():
    from babelir.fuse import group_evidence

    run = Run({"q": {f"d{i}": float(i) for i in range(10)}, "empty": {}})
    out = group_evidence(run, {}, weight=1.0, depth=3)
    assert sorted(out["q"]) == ["d7", "d8", "d9"] and out["empty"] == {}


def test_zscore_lets_a_lone_match_count():
    """One BM25 match cannot be standardised over itself: it is standardised with an unmatched
    document at score 0, so it gains over the documents the run did not return."""
    bm25 = Run({"q": {"d1": 3.2}})
    dense = Run({"q": {"d1": 0.5, "d2": 0.6, "d3": 0.4}})
    fused = zscore([bm25, dense])
    assert fused.ranking("q")[0][0] == "d1"
    assert fused["q"]["d1"] - fused["q"]["d2"] == pytest.approx(0.5 * (1 - (-1)) + 0.5 * (0 - 1.2247), abs=1e-3)
    tied = zscore([Run({"q": {"a": 2.0, "b": 2.0}}), Run({"q": {"c": 1.0, "a": 0.0}})], [1, 0])
    assert tied["q"]["a"] == tied["q"]["b"] == pytest.approx(2 ** -0.5) and tied["q"]["c"] == pytest.approx(-(2 ** 0.5))
