"""Printing search results for people: rank, id, score, language and a snippet per hit.

What a document holds reaches the terminal escaped: control characters (an ESC sequence could
clear the screen or retitle the window, a NUL or a BEL misbehave) and bidirectional embeddings, overrides and
isolates (U+202E would show the rest of the line reversed) are printed as ``\\x1b``, ``\\u202e``.
"""

from __future__ import annotations

# Unicode bidirectional embeddings, overrides and isolates, which reorder what follows them (the marks
# U+200E, U+200F and U+061C only set the direction of neighbouring punctuation, and right-to-left text
# holds them often: they are printed as they are)
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ESCAPES = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7f, 0xa0)]}  # the control characters (Cc)
_ESCAPES.update({ord(c): f"\\u{ord(c):04x}" for c in _BIDI})


def shown(text: str) -> str:
    """``text`` safe to print on a terminal: control and bidirectional-control characters escaped.

    >>> shown("a\\x1b[2Jb\\u202ec")
    'a\\\\x1b[2Jb\\\\u202ec'
    """
    return text.translate(_ESCAPES)


def print_hits(retriever, query: str, k: int, lang: str | None, run=None) -> None:
    """Print rank, id, score, language and a snippet for one query; when the query's language was
    detected among two or more of the index's languages, say on stderr which one it was analysed in.
    ``run``: the query's Run (query id ``q``) when the search was already made."""
    import sys

    from babelir.retrieve.language_gate import analysis_language, held_languages
    from babelir.types import Query

    if run is None:
        run = retriever.retrieve([Query("q", query)], k, lang=lang)
    if lang in (None, "auto") and len(held_languages(retriever.index)) > 1:
        used = analysis_language(Query("q", query), retriever.index, lang)
        why = ("no language of the index is written in its script, or it holds too little text to tell: "
               "analysed by its script" if used == "und" else "detected among the index's languages")
        print(f"query analysed as {used} ({why}; --lang to choose)", file=sys.stderr)
    ranking = run.ranking("q") if "q" in run else []
    if not ranking:
        print("no match")
        return
    docs = retriever.index.documents([d for d, _ in ranking])
    ranking = [(doc_id, score) for doc_id, score in ranking if doc_id in docs]  # (deleted meanwhile by a writer)
    for rank, (doc_id, score) in enumerate(ranking, start=1):
        doc_lang, title, text = docs[doc_id]
        snippet = " ".join((f"{title}: {text}" if title else text).split())
        if len(snippet) > 90:
            snippet = snippet[:89] + "…"
        print(f"{rank:>3}  {shown(doc_id):<16} {score:8.4f}  {shown(doc_lang or 'und'):<4} {shown(snippet)}")
