"""Word segmentation: ICU for every script, dictionary segmenters for zh / ja / ko when installed.

A segmenter maps normalised text to words (``list[str]``), punctuation and spaces dropped.

- ``icu``: ICU's word break iterator (dictionary-based for Thai, Lao, Khmer, Burmese, Chinese and
  Japanese); words with no letter or digit are dropped.
- ``jieba`` (``babelir[zh]``): jieba's accurate mode.
- ``sudachi`` (``babelir[ja]``): SudachiPy, split mode B, dictionary forms (normalised).
- ``newmm`` (``babelir[th]``): PyThaiNLP's dictionary-based maximal matching (an option: ICU
  scores higher on XQuAD-R Thai, .822 vs .811);
- ``kiwi`` (``babelir[ko]``): kiwipiepy morphemes, content morphemes only (nouns, verb and adjective
  stems, adverbs, roots, foreign words and numbers).

``available(name)`` says whether a segmenter's package is installed.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from itertools import chain

PACKAGES = {"icu": "icu4py", "jieba": "jieba", "sudachi": "sudachipy", "kiwi": "kiwipiepy", "newmm": "pythainlp"}
EXTRAS = {"jieba": "zh", "sudachi": "ja", "kiwi": "ko", "newmm": "th"}
_KIWI_KEEP = ("NN", "NR", "NP", "VV", "VA", "MAG", "XR", "SL", "SH", "SN")


def available(name: str) -> bool:
    """Whether the package behind segmenter ``name`` can be imported."""
    return importlib.util.find_spec(PACKAGES[name]) is not None


_ALNUM = re.compile(r"[^\W_]")  # exactly the characters str.isalnum() accepts (a test checks every one)


def is_word(segment: str) -> bool:
    """Whether a segment has a letter or digit (what every segmenter keeps)."""
    return _ALNUM.search(segment) is not None


def icu(text: str) -> list[str]:
    return [w for w in icu_segments(text) if is_word(w)]


SPACE_JOINERS = frozenset("\uff9e\uff9f")
"""The characters after which ICU's words of a text differ from the words of its space-separated
chunks, each segmented alone: halfwidth katakana sound marks (Word_Break Extend) attach to a
space before them. Found by segmenting ``"a " + c + "b"`` (and with digits and Thai) for every
code point ``c``; ``tests/unit/test_segment_chunks.py`` checks it on every code point."""


def icu_chunks_agree(text: str) -> bool:
    """Whether ICU's words of ``text`` are those of its chunks between spaces (" "), segmented one
    by one (UAX #29 always breaks between a space and anything but another space or an Extend,
    Format or ZWJ character, and those attach to the space, which holds no word), so that a memo
    of chunks serves: every text but one holding a :data:`SPACE_JOINERS` character."""
    return text.isascii() or not any(map(text.__contains__, SPACE_JOINERS))  # C searches, not a loop per character


def icu_chunk_segments(chunks: list[str]) -> list[list[str]]:
    """Each chunk's segments (chunks hold no space; :func:`icu_chunks_agree`), with the words
    :func:`icu_segments` finds in the chunk alone. The chunks without a line break are segmented in
    one pass, joined by newlines: UAX #29 always breaks before and after one (WB3a, WB3b), and a
    text after it is segmented as at the start of a text (WB4 and WB15 treat it as they treat the
    start), so one long pass costs what a chunk's own pass would each time."""
    out: list[list[str] | None] = [None] * len(chunks)
    joined = [i for i, chunk in enumerate(chunks) if "\n" not in chunk and "\r" not in chunk]
    if len(joined) > 1:
        parts: list[list[str]] = [[]]
        for piece in icu_segments("\n".join(chunks[i] for i in joined)):
            if piece == "\n":
                parts.append([])
            else:
                parts[-1].append(piece)
        if len(parts) == len(joined):
            for i, part in zip(joined, parts):
                out[i] = part
    return [found if found is not None else icu_segments(chunk) for found, chunk in zip(out, chunks)]


def icu_segments(text: str) -> list[str]:
    """Every segment of ICU's word break iterator, spaces and punctuation included (``icu``
    keeps the words among them)."""
    from icu4py.breakers import WordBreaker

    return list(WordBreaker(text, "root")) if text.strip() else []


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def jieba(text: str) -> list[str]:
    return [w for w in _jieba().lcut(text) if is_word(w)]


@lru_cache(maxsize=1)
def _sudachi():
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.B)


def sudachi(text: str) -> list[str]:
    tokenizer = _sudachi()
    words = []
    for start in range(0, len(text), 10_000):  # Sudachi refuses very long inputs
        words.extend(m.normalized_form() for m in tokenizer.tokenize(text[start:start + 10_000]))
    return [w for w in words if is_word(w)]


def newmm(text: str) -> list[str]:
    from pythainlp.tokenize import word_tokenize

    return [w for w in word_tokenize(text, engine="newmm", keep_whitespace=False) if is_word(w)]


@lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi()


def kiwi(text: str) -> list[str]:
    return [t.form for t in _kiwi().tokenize(text) if t.tag.startswith(_KIWI_KEEP) and is_word(t.form)]


MAX_TERM_LENGTH = 255  # as Lucene's default maximum token length


def finalize(words: list[str]) -> list[str]:
    """Terms the index can hold: no whitespace inside a term (the postings split on it), none empty,
    none longer than MAX_TERM_LENGTH characters (longer words are cut)."""
    out = []
    for word in words:
        for part in word.split() if any(ch.isspace() for ch in word) else (word,):
            if part:
                out.append(part[:MAX_TERM_LENGTH])
    return out


SEGMENTERS = {"icu": icu, "jieba": jieba, "sudachi": sudachi, "kiwi": kiwi, "newmm": newmm}
SEGMENTS = dict(SEGMENTERS, icu=icu_segments)
"""Per segmenter: segments that may include non-words (each goes through a :class:`WordMemo`,
which maps a non-word to no term)."""


class WordMemo(dict):
    """A segment -> its terms (a tuple), computed by ``convert`` on first sight and remembered.

    Analysis after segmentation works word by word (normalise, apostrophe rule, stopwords, lemma,
    stem, :func:`finalize`), and most words of a corpus are repeats, so each distinct segment is
    converted once. Up to ``limit`` segments are kept, then all are forgotten at once.

    >>> memo = WordMemo(lambda w: (w.casefold(),) if is_word(w) else ())
    >>> list(memo.terms(["Hello", " ", "World", "!"]))
    ['hello', 'world']
    """

    __slots__ = ("convert", "limit")

    def __init__(self, convert, limit: int = 100_000):
        super().__init__()
        self.convert, self.limit = convert, limit

    def __missing__(self, word: str) -> tuple[str, ...]:
        terms = tuple(self.convert(word))
        if len(self) >= self.limit:
            self.clear()
        self[word] = terms
        return terms

    def terms(self, segments: list[str]) -> list[str]:
        """The terms of ``segments``, in order (the loop runs in C)."""
        return list(chain.from_iterable(map(self.__getitem__, segments)))

    def terms_learning(self, segments: list[str], convert_all) -> list[str]:
        """:meth:`terms`, where the segments not seen yet are converted together, by
        ``convert_all(new segments) -> each one's terms`` (one pass over many costs less than one
        per segment). Each segment is looked up once when all are known (the common case)."""
        found = list(map(self.get, segments))  # the loops run in C
        if None in found:
            new = list(dict.fromkeys(s for s, terms in zip(segments, found) if terms is None))
            if len(self) + len(new) > self.limit:
                self.clear()
            self.update(zip(new, map(tuple, convert_all(new))))
            found = list(map(self.__getitem__, segments))  # (a segment forgotten meanwhile is converted again)
        return list(chain.from_iterable(found))
