"""Snippets with the query's matched terms marked, according to each document language's analysis,
at a bounded cost whatever the length of the document.

A word of a document is a match when its analysed word terms share one with the analysed query's
(the subword pieces an analyzer may add are left out: a shared inner piece such as ``~s`` is no
match). Words are cut with ICU (the segments tile the text, so each has its character offsets).

Analysing a whole document to find its first match costs time in proportion to its length (25 s
for 10 MB), so a text longer than :data:`WINDOW_CHARS` is never analysed whole:

1. candidates are found cheaply: the lower-cased text is searched (``str.find``), in chunks of
   growing size from its start, for *probes*: the query's analysed terms and those of its words
   whose analysis matches (a stem such as ``librari`` is found inside ``libraries``);
2. the snippet window (:data:`SNIPPET_CHARS`) that each candidate, earliest first, would have as
   the first match is analysed word by word, at most :data:`WINDOWS_PER_TEXT` per text; the first
   window with a match gives the snippet, around its first match, and the matches inside it;
3. when no window matches (a match whose surface form differs from every probe, e.g. only after
   accent folding), the snippet is the start of the text, with the matches found there.

Each :class:`Highlighter` (one per request) analyses at most ``budget`` characters in all; once
they are spent, the remaining hits get the start of their text without marks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SNIPPET_CHARS = 240
WINDOW_CHARS = 2 * SNIPPET_CHARS   # a text this short is analysed whole
WINDOWS_PER_TEXT = 4               # candidate windows analysed per text at most
BUDGET_CHARS = 100_000             # characters analysed per request at most (a few tenths of a second)
FIRST_CHUNK_CHARS = 4096           # the first chunk of a text searched for candidates (then 4 times larger)

_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit (str.isalnum), as one C-level search
AnalyzeWords = Callable[[list[str], "str | None"], "list[list[str]] | list[tuple[str, ...]]"]


def word_analysis(analyzer) -> Callable[[str, "str | None"], list[str]]:
    """``analyzer``'s analysis into word terms alone, without the subword pieces an analyzer may
    add (which no highlight uses): its ``words(text, lang)`` when it has one, the ``analyze`` of its
    ``words`` view when it combines views, else its ``analyze``."""
    words = getattr(analyzer, "words", None)
    if callable(words):
        return words
    if callable(getattr(words, "analyze", None)):
        return words.analyze
    return analyzer.analyze


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the words of ``text`` (ICU word boundaries)."""
    from icu4py.breakers import WordBreaker

    spans, position = [], 0
    if not text.strip():
        return spans
    for segment in WordBreaker(text, "root"):
        start, position = position, position + len(segment)
        if _ALNUM.search(segment):
            spans.append((start, position))
    return spans


def snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    """A window of at most ``size`` characters of ``text`` around the first match (the start when
    none), with ``…`` where it is cut, and the match offsets inside the returned snippet."""
    start, end = _window(len(text), spans[0][0] if spans else 0, size)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [[s + shift, e + shift] for s, e in spans if s >= start and e <= end]
    return prefix + text[start:end] + suffix, inside


def _window(length: int, first: int, size: int) -> tuple[int, int]:
    """The (start, end) of the snippet window of a text of ``length`` whose first match starts at ``first``."""
    start = first - size // 3 if first > size // 3 else 0
    end = min(length, start + size)
    return max(0, min(start, end - size)), end


def _folded(text: str) -> str:
    """``text`` lower-cased, character for character (the one character whose lower case is two,
    U+0130, becomes ``i``), so that offsets into it are offsets into ``text``."""
    return text.replace("\u0130", "I").lower()


class Highlighter:
    """Snippets for the hits of one query.

    ``query``: its text; ``lang``: the language it was analysed in; ``terms``: its analysed terms;
    ``analyze_words(words, lang)``: the analysed terms of each word (the caller makes it safe to
    call from several threads, e.g. under a lock); ``budget``: characters analysed at most, in all.
    """

    def __init__(self, query: str, lang: str | None, terms: set[str], analyze_words: AnalyzeWords,
                 budget: int = BUDGET_CHARS, size: int = SNIPPET_CHARS):
        from babelir.text.e5_pieces import is_piece

        self.terms = {term for term in terms if not is_piece(term)}
        self.analyze_words, self.budget, self.size = analyze_words, budget, size
        probes = {_folded(term) for term in self.terms}
        if self.terms:
            words = [query[s:e] for s, e in word_spans(query)]
            probes |= {_folded(word) for word, found in zip(words, analyze_words(words, lang))
                       if self.terms.intersection(found)}
        self.probes = sorted(probe for probe in probes if probe.strip())

    def snippet(self, text: str, lang: str | None) -> tuple[str, list[list[int]]]:
        """The snippet of one hit's ``text`` (in ``lang``) and the match offsets inside it."""
        if not self.terms or not text or self.budget <= 0:
            return snippet(text, [], self.size)
        if len(text) <= WINDOW_CHARS:
            return snippet(text, self._matches(text, 0, len(text), lang), self.size)
        first, window, spans = self._first_match(text, lang)
        start, end = _window(len(text), first, self.size)
        if (start, end) != window:
            spans = self._matches(text, start, end, lang)
        return snippet(text, spans, self.size)

    def _first_match(self, text: str, lang: str | None) -> tuple[int, tuple[int, int], list[tuple[int, int]]]:
        """The offset of the first match in the earliest candidate window that has one (0: none
        found), that window and its matches. A candidate's window is the snippet's window were the
        candidate the first match, as it mostly is: then the window is analysed once. The text is
        folded and searched in chunks of growing size, so that a match near the start costs no
        pass over the whole text."""
        if not self.probes:
            return 0, (0, 0), []
        longest = max(map(len, self.probes))
        tries, after, chunk, size = 0, 0, 0, FIRST_CHUNK_CHARS
        while chunk < len(text) and tries < WINDOWS_PER_TEXT and self.budget > 0:
            chunk_end = min(len(text), chunk + size)
            folded = _folded(text[chunk:chunk_end + longest - 1])  # a probe may start before chunk_end
            while tries < WINDOWS_PER_TEXT and self.budget > 0:
                found_at = [at for at in (folded.find(probe, max(0, after - chunk)) for probe in self.probes)
                            if 0 <= at < chunk_end - chunk]
                if not found_at:
                    break
                at = chunk + min(found_at)
                start, end = _window(len(text), at, self.size)
                found = self._matches(text, start, end, lang)
                if found:
                    return found[0][0], (start, end), found
                tries += 1
                after = max(at + 1, end - 32)  # the last word of the window may have been cut
            chunk, size = chunk_end, 4 * size
        return 0, (0, 0), []

    def _matches(self, text: str, start: int, end: int, lang: str | None) -> list[tuple[int, int]]:
        """Offsets (into ``text``) of the matching words that lie wholly inside ``text[start:end]``."""
        self.budget -= end - start  # the snippet's own window is analysed even past the budget
        part = text[start:end]
        spans = word_spans(part)
        if spans and start > 0 and spans[0][0] == 0 and text[start - 1].isalnum():
            spans = spans[1:]  # cut by the window's start
        if spans and end < len(text) and spans[-1][1] == len(part) and text[end].isalnum():
            spans = spans[:-1]  # cut by the window's end
        found = self.analyze_words([part[s:e] for s, e in spans], lang)
        return [(start + s, start + e) for (s, e), terms in zip(spans, found) if self.terms.intersection(terms)]
