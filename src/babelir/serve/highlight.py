"""Snippets with the query's matched terms marked, according to each document language's analysis.

A document text is cut into words with ICU (the segments tile the text, so each has its character
offsets); a word is a match when its analysed word terms share one with the analysed query's (the
subword pieces an analyzer may add are left out: a shared inner piece such as ``~s`` is no match). The
snippet is a window around the first match, and the highlights are offsets into the snippet.
"""

from __future__ import annotations

SNIPPET_CHARS = 240


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the words of ``text`` (ICU word boundaries)."""
    from icu4py.breakers import WordBreaker

    spans, position = [], 0
    if not text.strip():
        return spans
    for segment in WordBreaker(text, "root"):
        start, position = position, position + len(segment)
        if any(ch.isalnum() for ch in segment):
            spans.append((start, position))
    return spans


def matches(text: str, query_terms: set[str], analyzer, lang: str | None) -> list[tuple[int, int]]:
    """Offsets of the words of ``text`` whose analysis shares a term with ``query_terms``."""
    from babelir.text.e5_pieces import is_piece

    query_terms = {term for term in query_terms if not is_piece(term)}
    if not query_terms:
        return []
    return [(s, e) for s, e in word_spans(text) if query_terms.intersection(analyzer.analyze(text[s:e], lang))]


def snippet(text: str, spans: list[tuple[int, int]], size: int = SNIPPET_CHARS) -> tuple[str, list[list[int]]]:
    """A window of at most ``size`` characters of ``text`` around the first match (the start when
    none), with ``…`` where it is cut, and the match offsets inside the returned snippet."""
    start = 0
    if spans and spans[0][0] > size // 3:
        start = spans[0][0] - size // 3
    end = min(len(text), start + size)
    start = max(0, min(start, end - size))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = [[s + shift, e + shift] for s, e in spans if s >= start and e <= end]
    return prefix + text[start:end] + suffix, inside
