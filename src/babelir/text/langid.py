"""Language identification, offline (py3langid), per document or per query.

``detect(text)`` returns babelir's language code (ISO 639-1) for ``text``.
"""

from __future__ import annotations

from babelir.types import normalize_lang


def detect(text: str) -> str:
    """The most likely language of ``text`` (``und`` when it holds no letters)."""
    if not any(ch.isalpha() for ch in text):
        return "und"
    from py3langid.langid import classify  # loads its model on first use

    lang, _ = classify(text)
    return normalize_lang(lang) or "und"
