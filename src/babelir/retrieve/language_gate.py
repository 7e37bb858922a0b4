"""Which evidence holds for a (query language, document language) pair, and fusion that respects it.

Lexical evidence (BM25 over a document's words and mE5 pieces) says something about a document
only where the query's terms can mean the same thing in the document's language: the query's own
language, or another language of the same macrolanguage (``nb``/``nn``/``no``, ``id``/``ms``).
Across languages a lexical match is an accident (an English name inside an Arabic sentence, a
Finnish word piece inside an unrelated Estonian word), and fusing it as evidence makes hybrid
search fall far below dense search. Dense and learned sparse evidence holds across languages, but
only dense scores are comparable across languages (its language correction), so dense decides how
the languages interleave and the other runs reorder documents within each language.

A query's languages are its given language, else the languages it may be written in
(:func:`babelir.text.langid.plausible_languages`): a short or ambiguous query ("Tesla", "coffee")
is plausible in many languages, so its lexical evidence keeps counting for all of them; a text
without letters ("32900") has no language and lexical evidence counts everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from babelir.fuse import ACROSS, LEXICAL, WITHIN, fuse_by_language
from babelir.run import Run
from babelir.types import Query, macrolanguage, normalize_lang


def query_languages(query: Query, lang: str | None = "auto") -> frozenset[str] | None:
    """The languages ``query`` may be written in: its own ``lang``, else ``lang`` (a code, or
    ``auto``/None to take the plausible languages of its text); None when any language is possible."""
    from babelir.text.langid import plausible_languages

    if query.lang:
        return frozenset({normalize_lang(query.lang)})
    if lang not in (None, "auto"):
        return frozenset({normalize_lang(lang)})
    return plausible_languages(query.text)


def held_languages(index) -> tuple[str, ...]:
    """The languages ``index`` holds documents in (its manifest's), without ``und``, sorted."""
    return tuple(sorted(held_counts(index)))


def held_counts(index) -> dict[str, int]:
    """``code -> document count`` of the languages ``index`` holds (its manifest's), without ``und``."""
    return {code: n for code, n in index.manifest.get("languages", {}).items() if code != "und" and n}


def analysis_language(query: Query, index, lang: str | None = "auto",
                      plausible: frozenset[str] | None = None) -> str:
    """The language ``query`` is analysed in over ``index``: its own ``lang``, else ``lang`` (a
    code the user gave), else detected among the index's languages
    (:func:`babelir.text.langid.detect` with ``among``): never a language the index holds no
    document in unless the user said so, and on a one-language index always that language; one
    written in the query's script; and for a query that gives little evidence ("paris"), the
    language most documents are in (the index's counts are a prior). Detection is free only over
    an index without a detected language (empty, or all ``und``)."""
    from babelir.text.langid import detect

    if query.lang:
        return normalize_lang(query.lang)
    if lang not in (None, "auto"):
        return normalize_lang(lang)
    return detect(query.text, among=held_counts(index) or None, plausible=plausible)


def lexical_languages(query_langs: frozenset[str] | None, index_langs: Iterable[str]) -> frozenset[str] | None:
    """The languages among ``index_langs`` where lexical evidence holds for a query written in one
    of ``query_langs``: the same macrolanguage, documents of unknown language (``und``), and
    documents whose code may stand for a query language (a detected ``dz`` may be Tibetan,
    :func:`babelir.text.langid.look_alikes`). None when it holds in all of them."""
    from babelir.text.langid import look_alikes

    index_langs = set(index_langs)
    if query_langs is None or "und" in query_langs:
        return None
    families = {macrolanguage(code) for code in query_langs}
    holds = frozenset(code for code in index_langs
                      if code == "und" or any(macrolanguage(alike) in families for alike in look_alikes(code)))
    return None if holds >= index_langs else holds


def run_scopes(modes: Sequence[str], dense_calibrated: bool) -> list[str]:
    """Where each mode's evidence holds (:func:`babelir.fuse.fuse_by_language`): BM25 matches the
    query's words in a document's words (``LEXICAL``); learned sparse scores hold across languages but
    are not comparable across them (``WITHIN``); dense scores are comparable across languages when
    the language correction standardised them per document language (``dense_calibrated``;
    :class:`babelir.index.dense.DenseVectors`), else they are like the sparse ones."""
    table = {"bm25": LEXICAL, "sparse": WITHIN, "dense": ACROSS if dense_calibrated else WITHIN}
    return [table[mode] for mode in modes]


def dense_calibrated(index, debias: bool | None, standardise: bool = True) -> bool:
    """Whether dense search over ``index`` with these options gives scores standardised per
    document language (the correction is on by default when two or more languages have 100+
    documents)."""
    if not index.manifest.get("encoder"):
        return False
    corrected = index.dense_vectors().corrects_bias if debias is None else debias
    return bool(corrected and standardise)


def fuse_runs(index, runs: Sequence[Run], scopes: Sequence[str], fuse, weights: Sequence[float] | None,
              query_langs: dict[str, frozenset[str] | None], language_aware: bool = True) -> Run:
    """``runs`` (over ``index``, each with its scope from :func:`run_scopes`) fused by ``fuse(runs,
    weights)``. With ``language_aware``, each run counts where it holds
    (:func:`babelir.fuse.fuse_by_language`): BM25 for documents in a language the query may be
    written in (``query_langs``: query id -> :func:`query_languages`), the cross-lingual runs within
    every language, and the runs calibrated across languages (dense with its correction; else all
    the cross-lingual runs) interleave the languages."""
    if not language_aware:
        return fuse(runs, weights)
    index_langs = index.manifest.get("languages") or {"und": 0}
    allowed = {qid: lexical_languages(langs, index_langs) for qid, langs in query_langs.items()}
    if len(index_langs) == 1 and all(value is None for value in allowed.values()):
        return fuse(runs, weights)
    if len(index_langs) == 1:
        only = next(iter(index_langs))
        doc_langs = {doc_id: only for run in runs for qid in run for doc_id in run[qid]}
    else:
        doc_langs = index.store.langs(sorted({doc_id for run in runs for qid in run for doc_id in run[qid]}))
    return fuse_by_language(runs, fuse, scopes, allowed, doc_langs, weights)
