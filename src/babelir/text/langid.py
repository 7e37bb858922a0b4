"""Language identification, offline (py3langid), per document or per query.

``detect(text)`` returns babelir's language code (ISO 639-1) for ``text``; ``detect(text,
among=…)`` chooses among the given languages only (a server knows which languages its index
holds; a one-word query such as "coffee" is otherwise easily taken for another language).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from babelir.types import normalize_lang

_LOCK = threading.Lock()


@lru_cache(maxsize=32)
def _restricted(langs: tuple[str, ...]):
    """An identifier limited to ``langs`` (those py3langid knows), or None when fewer than two."""
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE)
    known = [lang for lang in langs if lang in identifier.nb_classes]
    if len(known) < 2:
        return None
    identifier.set_languages(known)
    return identifier


def detect(text: str, among: tuple[str, ...] | None = None) -> str:
    """The most likely language of ``text`` (``und`` when it holds no letters), among ``among``
    when given (a tuple of codes; ignored when py3langid knows fewer than two of them)."""
    if not any(ch.isalpha() for ch in text):
        return "und"
    identifier = _restricted(tuple(sorted(among))) if among else None
    if identifier is None:
        from py3langid.langid import classify  # loads its model on first use

        lang, _ = classify(text)
    else:
        with _LOCK:
            lang, _ = identifier.classify(text)
    return normalize_lang(lang) or "und"
