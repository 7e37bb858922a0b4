"""Per-language character normalisation, applied before segmentation.

Every normaliser starts from Unicode NFKC, case folding (language-specific case rules first,
e.g. Turkish dotted/dotless i) and decimal digits of any script folded to ASCII (٣٠٨, ३०८ and
๓๐๘ all become 308, as Lucene's DecimalDigitFilter), then applies its language's folding:

- ``arabic``: alef variants (أ إ آ ٱ) -> ا, alef maksura ى -> ي, teh marbuta ة -> ه, tatweel and
  diacritics (harakat, superscript alef) removed (as Lucene's ArabicNormalizer);
- ``persian`` / ``urdu``: Arabic yeh/kaf -> Persian ی / ک, heh variants -> ه, diacritics removed,
  ZWNJ kept as a word joiner (removed), as Lucene's PersianNormalizer;
- ``indic``: nukta, ZWJ and ZWNJ removed (Devanagari, Bengali, Gurmukhi, Tamil, Telugu ...);
- ``turkish``: I -> ı and İ -> i before folding;
- ``greek``: accents and diaeresis removed, final sigma ς -> σ;
- ``cyrillic``: ё -> е;
- ``hebrew``: niqqud and cantillation marks removed;
- ``tone-marks`` (Yoruba, Igbo): tone marks (combining acute, grave, macron) removed, under-dots
  and dots above kept (they are letters: ọ, ṣ, ị, ṅ);
- ``uyghur``: tatweel removed (NFKC already folds the Arabic presentation forms of legacy text);
- ``default``: NFKC and case folding only.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

_AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_FA_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ئ": "ی", "ك": "ک", "ۀ": "ه", "ة": "ه", "ھ": "ه", "ہ": "ه",
                          "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "\u200c": ""})
_INDIC_MARKS = re.compile("[\u093c\u09bc\u0a3c\u0abc\u0b3c\u0cbc\u200c\u200d]")
_HEBREW_MARKS = re.compile("[\u0591-\u05c7]")
_TONE_MARKS = {"\u0300", "\u0301", "\u0304"}
_TURKISH_CASE = str.maketrans({"I": "ı", "İ": "i"})


@lru_cache(maxsize=1)
def _digits() -> dict[int, str]:
    """Every Unicode decimal digit that is not ASCII -> its ASCII digit."""
    table = {}
    for code in range(0x660, sys.maxunicode + 1):
        ch = chr(code)
        if unicodedata.category(ch) == "Nd":
            table[code] = str(unicodedata.digit(ch))
    return table


def _base(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_digits()) if not text.isascii() else text


def default(text: str) -> str:
    return _base(text)


def arabic(text: str) -> str:
    return _AR_DIACRITICS.sub("", _base(text)).translate(_AR_FOLD)


def persian(text: str) -> str:
    return _AR_DIACRITICS.sub("", _base(text)).translate(_FA_FOLD)


def indic(text: str) -> str:
    return _INDIC_MARKS.sub("", _base(text))


def turkish(text: str) -> str:
    return _base(text.translate(_TURKISH_CASE))


def greek(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", _base(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped).replace("ς", "σ")


def cyrillic(text: str) -> str:
    return _base(text).replace("ё", "е")


def hebrew(text: str) -> str:
    return _HEBREW_MARKS.sub("", _base(text))


def uyghur(text: str) -> str:
    return _base(text).replace("\u0640", "")


def tone_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", _base(text))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))


NORMALIZERS = {
    "default": default, "arabic": arabic, "persian": persian, "urdu": persian, "indic": indic,
    "turkish": turkish, "greek": greek, "cyrillic": cyrillic, "hebrew": hebrew, "tone-marks": tone_marks,
    "uyghur": uyghur,
}
