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


def whole_text_pieces(text: str) -> list[str]:
    """The pieces of the text cut in one call, without the per-word memory."""
    vocabulary = pieces_module._vocabulary()
    ids = vocabulary.tokenizer.encode(pieces_module._prepare(text, vocabulary.table), add_special_tokens=False).ids
    return [vocabulary.terms[i] for i in ids if vocabulary.terms[i] is not None]


@pytest.mark.parametrize("text", TEXTS)
def test_pieces_per_remembered_word_equal_the_pieces_of_the_whole_text(text):
    pieces_module._cache.clear()
    first = e5_pieces(text)
    assert first == whole_text_pieces(text)
    assert e5_pieces(text) == first  # the second time, from memory
    assert all(is_piece(term) for term in first)


def test_the_memory_is_bounded_and_forgetting_changes_nothing(monkeypatch):
    monkeypatch.setattr(pieces_module, "CACHE_WORDS", 5)
    pieces_module._cache.clear()
    for text in TEXTS:
        assert e5_pieces(text) == whole_text_pieces(text)
        assert len(pieces_module._cache) <= 5 or len(set(text.split())) > 5
    text = "one two three four five six seven eight"
    assert e5_pieces(text) == whole_text_pieces(text)  # more words than the memory holds
    pieces_module._cache.clear()


def test_pieces_carry_no_punctuation_or_bare_word_marks():
    assert e5_pieces("!!! ... ---") == []
    assert "~▁" not in e5_pieces("a  b")


def test_remembered_words_are_not_cut_again_even_those_without_pieces(monkeypatch):
    pieces_module._cache.clear()
    text = "Bücher -- und ... Bibliotheken"
    first = e5_pieces(text)
    cut = []
    original = pieces_module._cut
    monkeypatch.setattr(pieces_module, "_cut", lambda vocabulary, words: cut.extend(words) or original(vocabulary, words))
    assert e5_pieces(text) == first
    assert cut == []
