"""Stemmers: Snowball (PyStemmer) and a light Arabic stemmer; lemmatisers: simplemma's dictionaries.

``get_stemmer(spec)`` returns a function ``list[str] -> list[str]`` for a spec such as
``snowball:russian`` or ``arabic-light+snowball`` (Larkey et al.'s light10 prefix/suffix removal,
as Lucene's ArabicStemmer, followed by Snowball Arabic). ``get_lemmatizer(code, normalize)`` returns
one that replaces each word by its simplemma lemma, normalised again (a German noun's lemma comes back
capitalised).
"""

from __future__ import annotations

import os
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


def _shared_prefix(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    return len(os.path.commonprefix([a, b]))


# Languages that capitalise nouns: a case-folded word is also looked up capitalised, as a noun.
CAPITALISED_NOUNS = frozenset({"de", "lb"})


@lru_cache(maxsize=None)
def get_lemmatizer(code: str, normalize: Callable[[str], str]) -> Callable[[list[str]], list[str]]:
    """The lemmatising function for simplemma's language ``code``; a lemma that differs from its
    word is passed through ``normalize`` (the pipeline's normaliser) so that it reads as the text did.
    In German, where simplemma also knows the capitalised form, the noun's lemma is taken unless
    the other reading keeps more of the word ("garten": Garten, not garen; "grossen": gross, not Gros).

    >>> from babelir.text.normalize import default
    >>> get_lemmatizer("de", default)(["häuser", "gärten", "garten", "spielten", "grossen"])
    ['haus', 'garten', 'garten', 'spielen', 'gross']
    """
    import simplemma

    nouns_first = code in CAPITALISED_NOUNS

    @lru_cache(maxsize=200_000)
    def lemma(word: str) -> str:
        found = simplemma.lemmatize(word, lang=code)
        if nouns_first:  # case folding made "Garten" "garten", which simplemma reads as a form of "garen"
            noun = word[:1].upper() + word[1:]
            if simplemma.is_known(noun, lang=code):
                as_noun = simplemma.lemmatize(noun, lang=code)
                if _shared_prefix(as_noun.casefold(), word) >= _shared_prefix(found.casefold(), word):
                    found = as_noun
        return word if found == word else normalize(found)

    return lambda words: [lemma(w) for w in words]
