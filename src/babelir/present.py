"""Printing search results for people: rank, id, score, language and a snippet per hit."""

from __future__ import annotations


def print_hits(retriever, query: str, k: int, lang: str | None) -> None:
    """Print rank, id, score, language and a snippet for one query; when the query's language was
    detected among two or more of the index's languages, say on stderr which one it was analysed in."""
    import sys

    from babelir.retrieve.language_gate import analysis_language, held_languages
    from babelir.types import Query

    run = retriever.retrieve([Query("q", query)], k, lang=lang)
    if lang in (None, "auto") and len(held_languages(retriever.index)) > 1:
        used = analysis_language(Query("q", query), retriever.index, lang)
        print(f"query analysed as {used} (detected among the index's languages; --lang to choose)", file=sys.stderr)
    ranking = run.ranking("q") if "q" in run else []
    if not ranking:
        print("no match")
        return
    docs = retriever.index.documents([d for d, _ in ranking])
    for rank, (doc_id, score) in enumerate(ranking, start=1):
        doc_lang, title, text = docs[doc_id]
        snippet = " ".join((f"{title}: {text}" if title else text).split())
        if len(snippet) > 90:
            snippet = snippet[:89] + "…"
        print(f"{rank:>3}  {doc_id:<16} {score:8.4f}  {doc_lang or 'und':<4} {snippet}")
