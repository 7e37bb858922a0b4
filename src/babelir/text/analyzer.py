"""The analyzer interface and babelir's script-aware default analyzer.

An analyzer turns text into the terms that are indexed and searched::

    analyzer.analyze(text, lang) -> list[str]

Documents and queries go through the same ``analyze``, so they always agree. ``config()`` returns
a JSON-serialisable description that the index manifest stores; :func:`analyzer_from_config`
rebuilds the analyzer from it, so an index is always searched with the analysis it was built with.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Protocol


class Analyzer(Protocol):
    """What an analyzer provides (a structural type: any object with these methods fits)."""

    name: str

    def analyze(self, text: str, lang: str | None = None) -> list[str]:
        """Terms of ``text`` written in language ``lang`` (None when unknown)."""

    def config(self) -> dict[str, Any]:
        """A JSON-serialisable description, from which :func:`analyzer_from_config` rebuilds it."""


class ScriptAwareAnalyzer:
    """The default analyzer for any language.

    Pipeline (version 2): ICU word segmentation of the text as written, canonically composed
    (dictionary-based for Thai, Chinese, Japanese, Khmer, Lao and Burmese, so unspaced text is split
    into words; a number inside such text is a word of its own), then each segment with at least
    one letter or digit is normalised into a term: NFKC, case folding (Turkic rules for Turkic
    ``lang``, else İ folds to i), digits of any script to ASCII. Version 1 normalised the whole
    text before segmenting it (an index built with it keeps being read so).

    >>> ScriptAwareAnalyzer().analyze("Straße, 2024! ภาษาไทย ราคา๓๒๙๐๐บาท")
    ['strasse', '2024', 'ภาษา', 'ไทย', 'ราคา', '32900', 'บาท']
    """

    name = "script-aware"

    def __init__(self, version: int = 2):
        self.version = version

    def analyze(self, text: str, lang: str | None = None) -> list[str]:
        from babelir.text import normalize
        from babelir.text.segment import finalize, icu  # ICU is loaded on first use, not at import

        if self.version < 2:
            return finalize(icu(unicodedata.normalize("NFKC", text).casefold()))
        norm = normalize.term_normalizer(normalize.default_for(lang))
        return finalize([norm(word) for word in icu(normalize.prepare(text))])

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


ANALYZERS = ("language-aware", "script-aware", "subword", "language-aware+subword")
DEFAULT_ANALYZER = "language-aware"


def get_analyzer(name: str = DEFAULT_ANALYZER, **options) -> Analyzer:
    """A new analyzer of the kind ``name`` (``language-aware`` or ``script-aware``)."""
    from babelir.errors import BabelirError

    if name == "script-aware":
        return ScriptAwareAnalyzer()
    if name == "language-aware":
        from babelir.text.language_aware import LanguageAwareAnalyzer

        return LanguageAwareAnalyzer(**options)
    if name in ("subword", "language-aware+subword"):
        raise BabelirError("the subword analyzer is trained on a corpus: use babelir.text.subword "
                           "(or `babelir index --analyzer subword`)")
    raise BabelirError(f"unknown analyzer {name!r}; known: {', '.join(ANALYZERS)}")


def analyzer_from_config(config: dict[str, Any], directory=None) -> Analyzer:
    """Rebuild the analyzer a manifest describes (``directory``: the index, for analyzers that keep
    a model there); refuses a version this babelir does not have."""
    from babelir.errors import BabelirError

    if config.get("name") == "language-aware+subword" and config.get("version") == 1:
        from babelir.text.subword import WordsAndPiecesAnalyzer

        return WordsAndPiecesAnalyzer.from_config(config, directory,
                                                  words=analyzer_from_config(config["words"], directory))
    if config.get("name") == "subword" and config.get("version") == 1:
        from babelir.text.subword import SubwordAnalyzer

        return SubwordAnalyzer.from_config(config, directory)
    if config.get("name") == "language-aware" and config.get("version") in (1, 2, 3, 4, 5, 6, 7):
        from babelir.text.language_aware import LanguageAwareAnalyzer

        return LanguageAwareAnalyzer.from_config(config)
    if config.get("name") == "script-aware" and config.get("version") in (1, 2):
        return ScriptAwareAnalyzer(config["version"])
    analyzer = get_analyzer(config.get("name", ""))
    if config.get("version") != getattr(analyzer, "version", None):
        raise BabelirError(f"the index was built with analyzer {config} which this babelir does not provide "
                           f"(it has version {getattr(analyzer, 'version', None)}); rebuild the index")
    return analyzer
