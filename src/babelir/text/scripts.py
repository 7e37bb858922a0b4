"""Writing system of a text or a token, from Unicode character names (no extra data).

>>> script_of("Straße"), script_of("ภาษา"), script_of("北京"), script_of("▁123")
('LATIN', 'THAI', 'HAN', 'NONE')
"""

from __future__ import annotations

import unicodedata

ALIASES = {"CJK": "HAN"}

# The scripts a language is written in, for the languages not written in the Latin script (or not
# only in it); any other code counts as Latin (:func:`language_scripts`).
_NON_LATIN = {
    "ARABIC": "ar ary arz fa ps sd sdh ug ur uzs ckb ks ku",
    "HEBREW": "he hbo yi", "GREEK": "el grc",
    "CYRILLIC": "ru uk be bg mk kk ky mn tg tt ba cv ce os sah sr uz",
    "DEVANAGARI": "hi mr ne sa mai bho new gom ks", "BENGALI": "bn as", "GURMUKHI": "pa", "GUJARATI": "gu",
    "ORIYA": "or", "TAMIL": "ta", "TELUGU": "te", "KANNADA": "kn", "MALAYALAM": "ml", "SINHALA": "si",
    "THAI": "th", "LAO": "lo", "KHMER": "km", "MYANMAR": "my", "TIBETAN": "bo dz", "ETHIOPIC": "am ti",
    "GEORGIAN": "ka", "ARMENIAN": "hy", "THAANA": "dv", "SYRIAC": "syr",
    "HAN": "zh wuu yue lzh ja ko", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko",
    "LATIN": "sr uz ku gom",   # written in two scripts
}
_LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {}
for _script, _codes in _NON_LATIN.items():
    for _code in _codes.split():
        _LANGUAGE_SCRIPTS[_code] = _LANGUAGE_SCRIPTS.get(_code, frozenset()) | {_script}


def _letter_script(char: str) -> str:
    words = unicodedata.name(char, "UNKNOWN").split()
    if words[0] in ("FULLWIDTH", "HALFWIDTH") and len(words) > 1:
        words = words[1:]
    return ALIASES.get(words[0], words[0])


def language_scripts(code: str) -> frozenset[str]:
    """The scripts language ``code`` is written in (``LATIN`` for a code not known to use another).

    >>> sorted(language_scripts("sr")), sorted(language_scripts("en")), sorted(language_scripts("ja"))
    (['CYRILLIC', 'LATIN'], ['LATIN'], ['HAN', 'HIRAGANA', 'KATAKANA'])
    """
    return _LANGUAGE_SCRIPTS.get(code, frozenset({"LATIN"}))


def text_scripts(text: str) -> frozenset[str]:
    """The scripts of the letters in ``text`` (empty when it has none).

    >>> sorted(text_scripts("iPhone 手机 😀"))
    ['HAN', 'LATIN']
    """
    return frozenset(_letter_script(char) for char in set(text) if char.isalpha())


def script_of(text: str) -> str:
    """The script of the first letter in ``text`` (the first word of its Unicode name; CJK -> HAN),
    or ``NONE`` when it has no letter."""
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "UNKNOWN").split()[0]
            return ALIASES.get(name, name)
    return "NONE"
