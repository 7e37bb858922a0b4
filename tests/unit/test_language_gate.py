"""Language-aware fusion: lexical evidence counts only in the document languages where it can hold."""

import pytest

from babelir.errors import BabelirError
from babelir.fuse import ACROSS, LEXICAL, WITHIN, fuse_by_language, rrf, zscore
from babelir.retrieve.language_gate import lexical_languages, query_languages
from babelir.run import Run
from babelir.types import Query

DOC_LANGS = {"en-a": "en", "en-b": "en", "en-c": "en", "ar-x": "ar", "ar-y": "ar", "ar-spurious": "ar"}


def _runs():
    # BM25 (lexical): an English query matched an English name inside an Arabic non-answer best
    bm25 = Run({"q": {"ar-spurious": 12.0, "en-b": 6.0, "en-a": 5.0, "en-c": 1.0}})
    # dense (cross-lingual, calibrated): the Arabic answer ar-x first
    dense = Run({"q": {"ar-x": 2.0, "en-a": 1.5, "ar-spurious": 1.2, "ar-y": 1.0, "en-b": 0.5}})
    return [bm25, dense]


def test_lexical_evidence_is_dropped_where_it_cannot_hold():
    runs = _runs()
    fused = fuse_by_language(runs, zscore, [LEXICAL, ACROSS], {"q": frozenset({"en"})}, DOC_LANGS)
    ranking = [d for d, _ in fused.ranking("q")]
    blind = [d for d, _ in zscore(runs).ranking("q")]
    assert blind[0] == "ar-spurious"  # fused over every document, the accident wins
    assert ranking[0] == "ar-x"  # the dense answer
    # Arabic documents keep their dense scores; the spurious one ranks where dense put it
    dense_only = zscore([runs[1]])["q"]
    for doc in ("ar-x", "ar-y", "ar-spurious"):
        assert fused["q"][doc] == pytest.approx(dense_only[doc])
    # within English the full fusion decides the order (BM25 prefers en-b), on the dense scores' slots
    english = [d for d in ranking if d.startswith("en-")]
    assert english == [d for d in blind if d.startswith("en-")]
    slots = sorted(dense_only.get(d, min(dense_only.values())) for d in ("en-a", "en-b", "en-c"))
    assert sorted(fused["q"][d] for d in english) == pytest.approx(slots, abs=1e-5)  # ties pulled apart by 1e-6


def test_a_document_only_lexical_evidence_found_in_another_language_is_left_out():
    bm25 = Run({"q": {"ar-spurious": 3.0, "en-a": 1.0}})
    dense = Run({"q": {"en-a": 0.9, "ar-x": 0.8}})
    fused = fuse_by_language([bm25, dense], zscore, [LEXICAL, ACROSS], {"q": frozenset({"en"})}, DOC_LANGS)
    assert set(fused["q"]) == {"en-a", "ar-x"}


def test_one_language_gets_the_plain_fusion_of_the_runs_that_hold_there():
    english = {"en-a": "en", "en-b": "en", "en-c": "en"}
    bm25 = Run({"q": {"en-b": 6.0, "en-a": 5.0, "en-c": 1.0}})
    dense = Run({"q": {"en-a": 1.5, "en-b": 0.5}})
    sparse = Run({"q": {"en-a": 9.0, "en-c": 8.0}})
    runs = [bm25, dense, sparse]
    same = fuse_by_language(runs, zscore, [LEXICAL, ACROSS, WITHIN], {"q": frozenset({"en"})}, english)
    assert same["q"] == zscore(runs)["q"]  # a monolingual search: exactly the plain fusion
    other = fuse_by_language(runs, zscore, [LEXICAL, ACROSS, WITHIN], {"q": frozenset({"de"})}, english)
    assert other["q"] == zscore([dense, sparse])["q"]  # a German query: BM25 does not count


def test_several_languages_interleave_by_dense_even_where_lexical_evidence_holds_everywhere():
    runs = _runs()
    fused = fuse_by_language(runs, zscore, [LEXICAL, ACROSS], {"q": None}, DOC_LANGS)
    plain = [d for d, _ in zscore(runs).ranking("q")]
    dense_only = zscore([runs[1]])["q"]
    floor = min(dense_only.values())
    for lang in ("en", "ar"):
        mine = [d for d, _ in fused.ranking("q") if DOC_LANGS[d] == lang]
        assert mine == [d for d in plain if DOC_LANGS[d] == lang]  # the plain fusion's order inside
        slots = sorted((dense_only.get(d, floor) for d in mine), reverse=True)
        assert [fused["q"][d] for d in mine] == pytest.approx(slots, abs=1e-5)  # on dense's scores
    with pytest.raises(BabelirError, match="scopes"):
        fuse_by_language(runs, zscore, [LEXICAL], {"q": None}, DOC_LANGS)
    rrf_fused = fuse_by_language(runs, lambda r, w=None: rrf(r), [LEXICAL, ACROSS], {"q": frozenset({"en"})}, DOC_LANGS)
    assert rrf_fused.ranking("q")[0][0] == "ar-x"


def test_runs_that_all_hold_everywhere_alike_are_fused_plainly():
    runs = _runs()
    for scopes in ([ACROSS, ACROSS], [WITHIN, WITHIN]):
        assert fuse_by_language(runs, zscore, scopes, {"q": frozenset({"en"})}, DOC_LANGS)["q"] == zscore(runs)["q"]


def test_lexical_languages_follow_the_macrolanguage_and_unknowns():
    held = {"en": 5, "ar": 5, "und": 1}
    assert lexical_languages(frozenset({"en"}), held) == {"en", "und"}
    assert lexical_languages(None, held) is None  # a query without letters: any language
    assert lexical_languages(frozenset({"en", "ar"}), held) is None  # all hold
    assert lexical_languages(frozenset({"nb"}), {"no": 3, "nn": 3, "da": 3}) == {"no", "nn"}  # Norwegian
    assert lexical_languages(frozenset({"id"}), {"ms": 3, "jv": 3}) == {"ms"}  # Malay macrolanguage
    # a document language detected as dz may be Tibetan; am may be Tigrinya
    assert lexical_languages(frozenset({"bo"}), {"dz": 3, "en": 3}) == {"dz"}
    assert lexical_languages(frozenset({"ti"}), {"am": 3, "en": 3}) == {"am"}


def test_query_languages_given_detected_or_unknown():
    assert query_languages(Query("q", "anything", "tha")) == {"th"}
    assert query_languages(Query("q", "anything"), "de") == {"de"}
    assert query_languages(Query("q", "32900")) is None
    german = query_languages(Query("q", "Wann wurde Nikola Tesla geboren und wo hat er studiert?"))
    assert "de" in german and "en" not in german
    assert "en" in query_languages(Query("q", "Tesla"))  # one word: many languages stay plausible


def test_lexical_only_weights_still_interleave_languages_by_dense():
    """--weights 1,0 (BM25 only): each language is ordered by BM25, and the languages are still
    interleaved by dense (with equal weights among the interleaving runs), not all tied at 0."""
    runs = _runs()
    fused = fuse_by_language(runs, zscore, [LEXICAL, ACROSS], {"q": frozenset({"en"})}, DOC_LANGS, [1.0, 0.0])
    english = [d for d, _ in fused.ranking("q") if d.startswith("en-")]
    assert english == ["en-b", "en-a", "en-c"]  # BM25's order
    assert len(set(fused["q"].values())) == len(fused["q"])  # real scores, no ties
    assert fused.ranking("q")[0][0] == "ar-x"  # dense's best document leads


def test_zscore_keeps_the_order_of_the_queries():
    runs = [Run({q: {"d": 1.0, "e": 0.5} for q in ("q3", "q1", "q2")})]
    assert list(zscore(runs)) == ["q3", "q1", "q2"]
