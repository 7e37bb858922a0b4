"""Records that flow through babelir, and language codes.

Ids are strings, always: ``"0012"`` stays ``"0012"``.

Languages are ISO 639-1 codes where one exists (``th``, ``zh``, ``sw``), ISO 639-3 otherwise.
:func:`normalize_lang` accepts the other forms through one mapping table.
"""

from __future__ import annotations

from dataclasses import dataclass

from babelir.errors import BabelirError


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


@dataclass(frozen=True, slots=True)
class Query:
    """A query (topic): ``id``, ``text`` and an optional ``lang``."""

    id: str
    text: str
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Qrel:
    """A relevance judgement: ``relevance`` > 0 means relevant."""

    query_id: str
    doc_id: str
    relevance: int


# ISO 639-3 (and a few common aliases) -> ISO 639-1, for the languages that have a 639-1 code.
_TO_ISO1 = {
    "afr": "af", "amh": "am", "ara": "ar", "arb": "ar", "aze": "az", "bel": "be", "ben": "bn",
    "bos": "bs", "bul": "bg", "cat": "ca", "ces": "cs", "cze": "cs", "cmn": "zh", "zho": "zh",
    "chi": "zh", "yue": "zh", "dan": "da", "deu": "de", "ger": "de", "ell": "el", "gre": "el",
    "eng": "en", "est": "et", "eus": "eu", "fas": "fa", "per": "fa", "pes": "fa", "fin": "fi",
    "fra": "fr", "fre": "fr", "gle": "ga", "glg": "gl", "guj": "gu", "hau": "ha", "heb": "he",
    "hin": "hi", "hrv": "hr", "hun": "hu", "hye": "hy", "arm": "hy", "ibo": "ig", "ind": "id",
    "isl": "is", "ice": "is", "ita": "it", "jpn": "ja", "kat": "ka", "geo": "ka", "kaz": "kk",
    "khm": "km", "kan": "kn", "kor": "ko", "kir": "ky", "lao": "lo", "lit": "lt", "lav": "lv",
    "mkd": "mk", "mal": "ml", "mon": "mn", "mar": "mr", "msa": "ms", "zsm": "ms", "may": "ms",
    "mya": "my", "bur": "my", "nep": "ne", "npi": "ne", "nld": "nl", "dut": "nl", "nor": "no",
    "nob": "nb", "nno": "nn", "ori": "or", "pan": "pa", "pol": "pl", "por": "pt", "pus": "ps",
    "ron": "ro", "rum": "ro", "rus": "ru", "sin": "si", "slk": "sk", "slo": "sk", "slv": "sl",
    "som": "so", "spa": "es", "sqi": "sq", "alb": "sq", "srp": "sr", "swa": "sw", "swh": "sw",
    "swe": "sv", "tam": "ta", "tel": "te", "tgk": "tg", "tha": "th", "tgl": "tl", "fil": "tl",
    "tur": "tr", "ukr": "uk", "urd": "ur", "uzb": "uz", "vie": "vi", "xho": "xh", "yor": "yo",
    "zul": "zu", "kin": "rw", "lug": "lg", "wol": "wo", "tir": "ti", "orm": "om", "sna": "sn",
}


def normalize_lang(code: str | None) -> str | None:
    """Return babelir's canonical code for ``code``, or None for None/empty.

    Accepts ISO 639-1, ISO 639-3 and BCP-47 tags with a region or script (``zh-Hans``,
    ``pt_BR``): the primary subtag is kept. Unknown three-letter codes stay ISO 639-3.

    >>> normalize_lang("tha"), normalize_lang("zh-Hans"), normalize_lang("EN"), normalize_lang("yue")
    ('th', 'zh', 'en', 'zh')
    """
    if code is None:
        return None
    code = code.strip().replace("_", "-").lower()
    if not code:
        return None
    primary = code.split("-", 1)[0]
    if not primary.isascii() or not primary.isalpha() or len(primary) not in (2, 3):
        raise BabelirError(f"not a language code: {code!r} (expected ISO 639-1 or 639-3, e.g. 'th' or 'tha')")
    return _TO_ISO1.get(primary, primary)
