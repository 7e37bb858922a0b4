"""Per-language character normalisation, applied to each segmented word (analysis version 5;
versions 1 to 4 applied it to the whole text before segmentation).

The segmenter sees the text as written (:func:`prepare`: NFC, Thai/Lao AM composed, numbers
inside unspaced scripts set apart); :func:`term_normalizer` then normalises each word it returns
(and folds İ to i outside Turkic languages). Every normaliser starts from Unicode NFKC, case
folding (language-specific case rules first, e.g. Turkish dotted/dotless i) and decimal digits
of any script folded to ASCII (٣٠٨, ३०८ and ๓๐๘ all become 308, as Lucene's DecimalDigitFilter),
then applies its language's folding:

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


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a Unicode decimal digit (Nd) that is not ASCII


def _ascii_digit(match: re.Match) -> str:
    return str(unicodedata.digit(match.group()))


def _base(text: str) -> str:
    """NFKC, case-folded, every decimal digit ASCII (the digits are found by the regex engine:
    no table of all Unicode to build when a process starts)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _OTHER_DIGIT.sub(_ascii_digit, text) if not text.isascii() else text


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


# Analysis version 5 (language-aware) and 2 (script-aware): the segmenter sees the text as written
# (:func:`prepare`), and the normalisers above are applied to each word it returns
# (:func:`term_normalizer`), so a compatibility mapping never changes what a dictionary segmenter
# or a stemmer sees (NFKC splits Thai ำ and Lao ຳ into two characters the dictionaries do not know).

# Languages whose Latin orthography pairs I/ı and İ/i (Unicode SpecialCasing: tr, az; and their
# close relatives). Everywhere else İ folds to i, as Lucene's lower-casing does.
TURKIC = frozenset({"tr", "az", "crh", "gag", "tt", "kaa", "tk"})

# Scripts written without spaces between words (Thai, Lao, Tibetan, Myanmar, Khmer, New Tai Lue,
# Khmer symbols, Tai Tham, Balinese, Javanese, Myanmar extensions, kana, Han): a number inside their
# text is a word of its own.
_UNSPACED = re.compile("[\u0e00-\u0fff\u1000-\u109f\u1780-\u17ff\u1980-\u19ff\u1a20-\u1aaf\u1b00-\u1b7f"
                       "\ua980-\ua9ff\uaa60-\uaa7f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                       "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Thai SARA AM and Lao AM typed (or compatibility-decomposed) as NIKHAHIT + SARA AA, a tone mark
# possibly between them: composed again (as PyThaiNLP's normalize does).
_AM = re.compile("([\u0e4d\u0ecd])([\u0e48-\u0e4b\u0ec8-\u0ecb]?)([\u0e32\u0eb2])")


def _compose_am(match: re.Match) -> str:
    return match.group(2) + ("\u0e33" if match.group(1) == "\u0e4d" else "\u0eb3")


def _space_number(match: re.Match) -> str:
    """The number, with a space on each side where it touches a letter of an unspaced script (only
    there: "波长760nm" keeps 760nm together, as ICU does)."""
    text, start, end = match.string, match.start(), match.end()
    before = " " if start > 0 and _UNSPACED.match(text, start - 1) else ""
    after = " " if end < len(text) and _UNSPACED.match(text, end) else ""
    return before + match.group() + after


def prepare(text: str) -> str:
    """The text a segmenter sees: canonically composed (NFC), Thai/Lao AM composed, and numbers
    that touch a letter of a script written without spaces set apart by spaces (so
    ``ราคา๓๒๙๐๐บาท`` is segmented as ราคา, ๓๒๙๐๐, บาท). Nothing else changes: case, width and
    compatibility characters are left to :func:`term_normalizer`.

    >>> prepare("ราคา๓๒๙๐๐บาท")
    'ราคา ๓๒๙๐๐ บาท'
    """
    text = unicodedata.normalize("NFC", text)
    if text.isascii():
        return text
    if "\u0e4d" in text or "\u0ecd" in text:
        text = _AM.sub(_compose_am, text)
    return _NUMBER.sub(_space_number, text)


def dotted_i(text: str, turkic: bool = False) -> str:
    """``text`` with the letters whose case is language-specific lower-cased: for ``turkic``, I to
    ı and İ to i (Turkish and Azerbaijani rules); else İ to i (as Lucene does; Python's casefold
    would give i and a combining dot)."""
    if turkic:
        return text.translate(_TURKISH_CASE)
    return text.replace("\u0130", "i") if "\u0130" in text else text


def fold_case(text: str, turkic: bool = False) -> str:
    """``text`` case-folded after :func:`dotted_i`: what a dictionary segmenter that is not ICU
    sees, since it may cut a word differently by case (Latin or Greek inside Japanese or Korean
    text). The scripts it segments have no case, so their words do not change."""
    return dotted_i(text, turkic).casefold()


@lru_cache(maxsize=None)
def term_normalizer(name: str, turkic: bool | None = None, dotless: bool = False):
    """The normaliser ``name`` (a key of NORMALIZERS) for one segmented word: NFKC, case folding,
    digits to ASCII and the language's folding, then Thai/Lao AM composed again; İ folds to i
    unless the language is Turkic (``turkic``; default: the ``turkish`` normaliser is), and with
    ``dotless`` so does ı (as Lucene's ASCIIFolding: "hıstory" is history outside Turkic languages;
    language-aware analysis version 6)."""
    fold = NORMALIZERS[name]
    turkic = name == "turkish" if turkic is None else turkic
    dotless = dotless and not turkic

    @lru_cache(maxsize=500_000)
    def normalise(word: str) -> str:
        if not turkic:
            word = dotted_i(word)
        if dotless and "\u0131" in word:
            word = word.replace("\u0131", "i")
        word = fold(word)
        if "\u0e4d" in word or "\u0ecd" in word:
            word = _AM.sub(_compose_am, word)
        return word

    return normalise


def default_for(lang: str | None) -> str:
    """The normaliser name of a language without a pipeline: Turkic case rules for Turkic languages."""
    return "turkish" if lang in TURKIC else "default"
