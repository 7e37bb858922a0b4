"""Records that flow through babelir, and language codes.

Ids are strings, always: ``"0012"`` stays ``"0012"``, and never hold whitespace, control characters,
invisible format characters (but the joiners ZWNJ and ZWJ) or lone surrogates (:func:`id_problem`, the one check every reader, the CLI and the HTTP API use).
Texts, titles and groups may hold anything but lone surrogates (:func:`text_problem`).

Languages are ISO 639-1 codes where one exists (``th``, ``zh``, ``sw``), ISO 639-3 otherwise.
:func:`normalize_lang` accepts the other forms through one mapping table (ISO 639, from iso639-lang).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babelir.errors import BabelirError


# any Unicode whitespace (str.isspace: tab, newline, U+0085, U+00A0, U+2028, U+3000, ...), the C0 and C1
# control characters and lone surrogates (which are not Unicode text and cannot be written as UTF-8)
_NOT_IN_ID = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Unicode format characters (category Cf) an id may hold: the joiners that Persian and Indic words need
_JOINERS = frozenset("\u200c\u200d")


def id_problem(value: object) -> str | None:
    """Why ``value`` cannot be a query or document id, or None when it can.

    An id is a non-empty string without whitespace (any Unicode whitespace), control characters
    or lone surrogates: such an id would split or forge a line of a TREC run or qrels file. Nor
    may it hold a format character (Unicode category Cf: zero-width space, direction marks and
    overrides such as U+202E, the BOM, soft hyphen …), which would make two different ids look
    the same or display reversed; the joiners ZWNJ (U+200C) and ZWJ (U+200D), which Persian and
    Indic words need, are allowed.

    >>> id_problem("th-0012"), id_problem("a/b?%"), id_problem("a b"), id_problem("")
    (None, None, "has whitespace (U+0020 at position 1): 'a b'", 'is empty')
    """
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    found = _NOT_IN_ID.search(value)
    if found is None:
        if not value:
            return "is empty"
        if value.isascii():  # O(1): no format character can be there
            return None
        import unicodedata

        at = next((i for i, c in enumerate(value) if c not in _JOINERS and unicodedata.category(c) == "Cf"), None)
        if at is None:
            return None
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"has an invisible format character (U+{ord(value[at]):04X} at position {at}): {shown!r}"
    char = found.group()
    kind = ("has whitespace" if char.isspace() else
            "has a lone surrogate" if "\ud800" <= char <= "\udfff" else "has a control character")
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"{kind} (U+{ord(char):04X} at position {found.start()}): {shown!r}"


def _has_surrogate(value: str) -> bool:
    if value.isascii():  # O(1) in CPython
        return False
    try:
        value.encode("utf-8")  # in C, faster than a regular expression over the whole text
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a text, title or group (a lone surrogate: not Unicode text, and it
    cannot be stored or written as UTF-8), or None when it can."""
    if not _has_surrogate(value):
        return None
    found = _SURROGATE.search(value)
    return f"has a lone surrogate (U+{ord(found.group()):04X} at position {found.start()}): not valid Unicode text"


def check_id(value: object, what: str = "id") -> str:
    """``value`` when it is a valid id (:func:`id_problem`), else a :class:`BabelirError` naming ``what``."""
    problem = id_problem(value)
    if problem is not None:
        raise BabelirError(f"{what} {problem}")
    return value  # type: ignore[return-value]


def check_text(value: str, what: str = "text") -> str:
    """``value`` when it is valid text (:func:`text_problem`), else a :class:`BabelirError` naming ``what``."""
    problem = text_problem(value)
    if problem is not None:
        raise BabelirError(f"{what} {problem}")
    return value


def passage(title: str, text: str) -> str:
    """The text a document is analysed and encoded from: its title (if any), a newline, its text."""
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True, slots=True)
class Doc:
    """A document: ``id`` and ``text``; ``title``, ``lang`` and ``group`` are optional.

    ``group`` names the larger unit the document was cut from (the paragraph of a sentence, the
    file of a chunk); retrieval can use the evidence of a document's group (:func:`babelir.fuse.group_evidence`)."""

    id: str
    text: str
    title: str = ""
    lang: str | None = None
    group: str = ""

    @property
    def passage(self) -> str:
        """:func:`passage` of this document's title and text."""
        return passage(self.title, self.text)

    def __post_init__(self):
        check_id(self.id, "document id")
        for what in ("text", "title", "group"):
            if _has_surrogate(getattr(self, what)):
                check_text(getattr(self, what), f"document {self.id!r}: {what}")


@dataclass(frozen=True, slots=True)
class Query:
    """A query (topic): ``id``, ``text`` and an optional ``lang``."""

    id: str
    text: str
    lang: str | None = None

    def __post_init__(self):
        check_id(self.id, "query id")
        if _has_surrogate(self.text):
            check_text(self.text, f"query {self.id!r}: text")


@dataclass(frozen=True, slots=True)
class Qrel:
    """A relevance judgment: ``relevance`` > 0 means relevant."""

    query_id: str
    doc_id: str
    relevance: int

    def __post_init__(self):
        check_id(self.query_id, "query id")
        check_id(self.doc_id, "document id")


# babelir's choices where ISO 639 offers none or another: Filipino is written as Tagalog (the
# detector says tl); Moldavian is Romanian (ISO retired "mo"); Central Kurdish (Sorani, Arabic
# script) keeps its own code, as in CLDR, where "ku" is Kurmanji (Latin script); "zxx" (no
# linguistic content, which the detector returns for text without language) is undetermined.
_OVERRIDES = {"fil": "tl", "mo": "ro", "mol": "ro", "ckb": "ckb", "zxx": "und"}


@lru_cache(maxsize=4096)
def _canonical(primary: str) -> str:
    """The canonical code of one lower-case primary subtag, from the ISO 639 tables (iso639-lang):
    the language's 639-1 code; else its macrolanguage's 639-1 code (Ayacucho Quechua ``quy`` ->
    ``qu``, Standard Arabic ``arb`` -> ``ar``, Cantonese ``yue`` -> ``zh``); else its 639-3 code.
    Retired codes follow their replacement (``iw`` -> ``he``); codes reserved for local use
    (``qaa``-``qtz``) stay. A code ISO 639 does not know is a :class:`BabelirError`."""
    if primary in _OVERRIDES:
        return _OVERRIDES[primary]
    from iso639 import Lang
    from iso639.exceptions import DeprecatedLanguageValue, InvalidLanguageValue

    try:
        lang = Lang(primary)
    except DeprecatedLanguageValue as exc:
        return _canonical(exc.change_to) if exc.change_to and exc.change_to != primary else primary
    except InvalidLanguageValue:
        lang = None
    if lang is None or primary not in (lang.pt1, lang.pt2b, lang.pt2t, lang.pt3, lang.pt5):
        if len(primary) == 3 and "qaa" <= primary <= "qtz":
            return primary  # reserved for local use
        raise BabelirError(f"unknown language code {primary!r} (not in ISO 639; e.g. 'th' or 'tha')")
    if lang.pt1:
        return lang.pt1
    macro = lang.macro()
    if macro is not None and macro.pt1:
        return macro.pt1
    return lang.pt3 or primary


def normalize_lang(code: str | None) -> str | None:
    """Return babelir's canonical code for ``code``, or None for None/empty.

    Accepts ISO 639-1, 639-2 (B and T) and 639-3 codes and BCP-47 tags with a region or script
    (``zh-Hans``, ``pt_BR``): the primary subtag is kept and mapped through the ISO 639 tables
    (:func:`_canonical`), so every form of a language gets one code: ``or``/``ori``/``ory`` ->
    ``or``, ``bo``/``tib``/``bod`` -> ``bo``.

    Raises :class:`BabelirError` for anything that is not 2-3 ASCII letters before the first ``-``,
    and for a code ISO 639 does not know (``xx``).

    >>> normalize_lang("tha"), normalize_lang("zh-Hans"), normalize_lang("EN"), normalize_lang("yue")
    ('th', 'zh', 'en', 'zh')
    >>> normalize_lang("quy"), normalize_lang("ory"), normalize_lang("uig"), normalize_lang("bod")
    ('qu', 'or', 'ug', 'bo')
    """
    if code is None:
        return None
    given = code
    code = code.strip().replace("_", "-").lower()
    if not code:
        return None
    primary = code.split("-", 1)[0]
    if not primary.isascii() or not primary.isalpha() or len(primary) not in (2, 3):
        raise BabelirError(f"not a language code: {code!r} (expected ISO 639-1 or 639-3, e.g. 'th' or 'tha')")
    try:
        return _canonical(primary)
    except BabelirError:
        if primary == code:
            raise
        raise BabelirError(f"unknown language code {given!r}: {primary!r} is not in ISO 639 "
                           f"(e.g. 'th' or 'tha')") from None


@lru_cache(maxsize=4096)
def macrolanguage(code: str | None) -> str | None:
    """The canonical code of the macrolanguage ``code`` belongs to (ISO 639-3), else ``code``:
    ``nb``, ``nn`` -> ``no``; ``id`` -> ``ms``; ``hr``, ``bs``, ``sr`` -> ``hbs``. Languages of one
    macrolanguage share much of their written vocabulary (hybrid search lets lexical evidence
    count between them, :mod:`babelir.retrieve.language_gate`)."""
    code = normalize_lang(code)
    if code in (None, "und"):
        return code
    from iso639 import Lang
    from iso639.exceptions import InvalidLanguageValue

    try:
        macro = Lang(code).macro()
    except InvalidLanguageValue:
        return code
    return _canonical(macro.pt3) if macro is not None else code
