"""ICU's words of a text are the words of its chunks between spaces, each segmented alone (what
the analyzer's chunk memo relies on, :func:`babelir.text.segment.icu_chunks_agree`), and
segmenting chunks joined by newlines gives each chunk's own segments
(:func:`babelir.text.segment.icu_chunk_segments`)."""

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelir.text import segment
from babelir.text.language_aware import LanguageAwareAnalyzer

CONTEXTS = ("a {} b", "a {}b", "1 {}2", "ก {}ข", "x\u200d {}y", "🇫 {}🇷")


def words(segments):
    return [s for s in segments if segment.is_word(s)]


def by_chunks(text):
    return [w for chunk in text.split(" ") for w in words(segment.icu_segments(chunk))]


def disagreeing(code_points):
    """The code points after which a text's ICU words and its chunks' differ, in any context."""
    found = set()
    for cp in code_points:
        for context in CONTEXTS:
            text = context.format(chr(cp))
            if words(segment.icu_segments(text)) != by_chunks(text):
                found.add(cp)
    return found


def every_code_point():
    return (cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp < 0xE000)


def test_only_the_space_joiners_make_chunks_disagree_on_the_risky_characters():
    # every mark, format, modifier and space character, and a spread of all the others
    risky = [cp for cp in every_code_point()
             if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me", "Cf", "Lm", "Sk", "Zs", "Zl", "Zp", "Cc")
             or cp % 101 == 0]
    assert disagreeing(risky) == {ord(c) for c in segment.SPACE_JOINERS}


@pytest.mark.slow
def test_only_the_space_joiners_make_chunks_disagree_on_every_code_point():
    assert disagreeing(every_code_point()) == {ord(c) for c in segment.SPACE_JOINERS}


TEXT = st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "Zs", "Cc", "Cf", "So", "Sk"]), max_size=200)


@settings(max_examples=400, deadline=None)
@given(text=TEXT)
def test_random_texts_give_the_same_words_by_chunks(text):
    if segment.icu_chunks_agree(text):
        assert words(segment.icu_segments(text)) == by_chunks(text)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(TEXT.map(lambda t: t.replace(" ", "")), max_size=12))
def test_chunks_segmented_together_give_each_chunk_s_own_words(chunks):
    together = segment.icu_chunk_segments(chunks)
    assert [words(found) for found in together] == [words(segment.icu_segments(chunk)) for chunk in chunks]


def test_the_analyzer_s_chunk_memo_changes_no_term(xquadr_dir, monkeypatch):
    from babelir.io.xquadr import XQUADR_LANGS, load_language

    texts = []
    for lang in XQUADR_LANGS:
        collection, _ = load_language(xquadr_dir, lang)
        texts += [(d.text, lang) for d in collection.docs[:150]] + [(q.text, lang) for q in collection.queries[:50]]
    texts += [("ｶﾞ ﾞｶ a \u0301b, 10 000 km — ‘quoted’ words", None), ("ｶ ﾞ", "xx"), ("\tx \n y  z", "en")]
    chunked = LanguageAwareAnalyzer()
    expected = [chunked.analyze(text, lang) for text, lang in texts]
    monkeypatch.setattr(segment, "icu_chunks_agree", lambda text: False)  # every text segmented whole
    whole = LanguageAwareAnalyzer()
    assert [whole.analyze(text, lang) for text, lang in texts] == expected


def test_a_word_is_what_has_a_character_str_isalnum_accepts_every_code_point():
    import sys

    from babelir.text.segment import is_word

    differ = [hex(cp) for cp in range(sys.maxunicode + 1)
              if is_word(chr(cp)) != chr(cp).isalnum() and not 0xD800 <= cp <= 0xDFFF]
    assert differ == []
    assert is_word("--a--") and not is_word("_-_ ")
