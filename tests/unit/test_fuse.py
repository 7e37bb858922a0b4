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
    assert fused["q2"] == {"d9": 0.0}  # one document: no spread
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
