"""The mE5 pieces: remembering each word's pieces changes nothing in what comes out."""

from __future__ import annotations

import pytest

from babelir.text import e5_pieces as pieces_module
from babelir.text.e5_pieces import e5_pieces, is_piece

TEXTS = [
    "Die Universitätsbibliothek in Göttingen hat viele Bücher.",
    "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์",
    "北京是中华人民共和国的首都。",
    "Ankara, Türkiye'nin başkentidir ve İstanbul en büyük şehirdir",
    "  spaces\tand\nnewlines,\u200bzero width and   runs of spaces  ",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ and ligatures ﬁ ﬂ",
    "",
    "!!! ... ---",
]


def whole_text_pieces(text: str, cutter: str = "sentencepiece") -> list[str]:
    """The pieces of the text cut in one call (spaces and all), without the per-word memory."""
    vocabulary = pieces_module._vocabulary()
    prepared = pieces_module._prepare(text, pieces_module._rules())
    if cutter == "tokenizers":
        return list(pieces_module._cutter(cutter)([prepared])[0])
    else:  # SentencePiece reads a space as a piece boundary too (escape_whitespaces)
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(
            model_proto=pieces_module._sentencepiece_model(vocabulary))
        ids = processor.encode(prepared, out_type=int)
    return [vocabulary.terms[i] for i in ids if vocabulary.terms[i] is not None]


@pytest.mark.parametrize("cutter", pieces_module.CUTTERS)
@pytest.mark.parametrize("text", TEXTS)
def test_pieces_per_remembered_word_equal_the_pieces_of_the_whole_text(text, cutter):
    pieces_module._caches[cutter].clear()
    first = e5_pieces(text, cutter)
    assert first == whole_text_pieces(text, cutter)
    assert e5_pieces(text, cutter) == first  # the second time, from memory
    assert all(is_piece(term) for term in first)


def test_the_memory_is_bounded_and_forgetting_changes_nothing(monkeypatch):
    cache = pieces_module._caches["sentencepiece"]
    monkeypatch.setattr(cache, "limit", 5)
    cache.clear()
    for text in TEXTS:
        assert e5_pieces(text) == whole_text_pieces(text)
        assert len(cache) <= 5 or len(set(text.split())) > 5
    text = "one two three four five six seven eight"
    assert e5_pieces(text) == whole_text_pieces(text)  # more words than the memory holds
    cache.clear()


def test_the_two_cutters_differ_only_in_the_order_of_equal_score_ties():
    from collections import Counter

    words = "ayininin xxxiii Universitätsbibliothek ภาษาไทย 北京是中华人民共和国的首都 Türkiye'nin"
    by_sentencepiece, by_tokenizers = e5_pieces(words, "sentencepiece"), e5_pieces(words, "tokenizers")
    assert by_sentencepiece != by_tokenizers  # "ayininin": ▁ay in inin, or ▁ay inin in
    assert Counter(by_sentencepiece) == Counter(by_tokenizers)  # the same bag of terms


def test_an_index_keeps_the_cutter_of_its_analysis_version():
    from babelir.text.analyzer import analyzer_from_config
    from babelir.text.language_aware import LanguageAwareAnalyzer

    config = LanguageAwareAnalyzer(_notify=False).config()
    assert config["version"] == 7
    new, old = analyzer_from_config(config), analyzer_from_config({**config, "version": 6})
    assert new.analyze("ayininin", "tr")[-3:] == e5_pieces("ayininin", "sentencepiece")
    assert old.analyze("ayininin", "tr")[-3:] == e5_pieces("ayininin", "tokenizers")


def test_pieces_carry_no_punctuation_or_bare_word_marks():
    assert e5_pieces("!!! ... ---") == []
    assert "~▁" not in e5_pieces("a  b")


def test_remembered_words_are_not_cut_again_even_those_without_pieces(monkeypatch):
    pieces_module._caches["sentencepiece"].clear()
    text = "Bücher -- und ... Bibliotheken"
    first = e5_pieces(text)
    cut = []
    original = pieces_module._cutter

    def counting(kind):
        return lambda words: cut.extend(words) or original(kind)(words)

    monkeypatch.setattr(pieces_module, "_cutter", counting)
    assert e5_pieces(text) == first
    assert cut == []
    assert e5_pieces("Bücher und Zeitschriften") == first[:2] + e5_pieces("und Zeitschriften")[1:]
    assert cut == ["zeitschriften"]  # only the new word is cut
