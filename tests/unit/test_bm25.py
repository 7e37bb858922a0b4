"""BM25 scores agree with an independent implementation (bm25s, Lucene variant) on the same terms."""

import pytest

from babelir.errors import BabelirError
from babelir.index.bm25 import BM25Params
from babelir.index.core import Index
from babelir.types import Doc

TEXTS = [
    "The Moon is Earth's only natural satellite and it causes tides",
    "Tides are caused by the Moon and the Sun; spring tides are the highest tides",
    "北京是中华人民共和国的首都",
    "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์",
    "The sun is a star. The sun is hot. The sun is big and the sun is old.",
    "satellite images of the Earth",
]


@pytest.mark.parametrize("k1,b", [(0.9, 0.4), (1.2, 0.75), (2.0, 1.0), (0.5, 0.0)])
def test_scores_match_bm25s_lucene(tmp_path, k1, b):
    bm25s = pytest.importorskip("bm25s")
    index = Index.create(tmp_path / "ix", params=BM25Params(k1, b))
    analyzer = index.analyzer  # the default analysis (words and mE5 pieces), the same terms for both
    index.add([Doc(f"d{i}", t) for i, t in enumerate(TEXTS)])
    reference = bm25s.BM25(k1=k1, b=b, method="lucene")
    reference.index([analyzer.analyze(t) for t in TEXTS], show_progress=False)
    for query in ["moon tides", "the sun", "首都 北京", "ภาษา", "earth satellite the"]:
        ours = dict(index.search(query, k=len(TEXTS)))
        theirs = reference.get_scores(analyzer.analyze(query))
        for i, expected in enumerate(theirs):
            assert ours.get(f"d{i}", 0.0) == pytest.approx(float(expected), rel=1e-5, abs=1e-6), (query, i)
    index.close()


@pytest.mark.parametrize("k1,b", [(-1, 0.4), (0.9, 1.5), (float("inf"), 0.4)])
def test_invalid_parameters(k1, b):
    with pytest.raises(BabelirError):
        BM25Params(k1, b)
