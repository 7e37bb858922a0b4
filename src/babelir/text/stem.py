"""Stemmers: Snowball (PyStemmer) and a light Arabic stemmer.

``get_stemmer(spec)`` returns a function ``list[str] -> list[str]`` for a spec such as
``snowball:russian`` or ``arabic-light+snowball`` (Larkey et al.'s light10 prefix/suffix removal,
as Lucene's ArabicStemmer, followed by Snowball Arabic).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي")


def arabic_light(word: str) -> str:
    """Larkey's light10: strip one prefix, then suffixes, keeping at least two letters.

    >>> arabic_light("والكتاب"), arabic_light("مدرسات")
    ('كتاب', 'مدرس')
    """
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2 and (prefix != "و" or len(word) > 3):
            word = word[len(prefix):]
            break
    changed = True
    while changed:
        changed = False
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                word = word[:-len(suffix)]
                changed = True
                break
    return word


@lru_cache(maxsize=None)
def _snowball(algorithm: str):
    import Stemmer

    return Stemmer.Stemmer(algorithm, 50_000)


@lru_cache(maxsize=None)
def get_stemmer(spec: str) -> Callable[[list[str]], list[str]]:
    """The stemming function for ``spec`` (``snowball:<algorithm>`` or ``arabic-light+snowball``)."""
    if spec.startswith("snowball:"):
        stemmer = _snowball(spec.split(":", 1)[1])
        return stemmer.stemWords
    if spec == "arabic-light+snowball":
        stemmer = _snowball("arabic")
        return lambda words: stemmer.stemWords([arabic_light(w) for w in words])
    raise ValueError(f"unknown stemmer {spec!r}")
