"""Language identification, offline (py3langid), per document or per query.

- ``detect(text)``: babelir's language code for ``text`` (``detect(text, among=…)`` always answers
  one of the given languages, preferring those plausible for the text: search knows which
  languages its index holds, and a one-word query such as "hospital" is otherwise easily taken for
  another language, German here, and then analysed unlike the English documents it should find).
- ``language_probabilities(text)``: every language's probability (py3langid's naive Bayes
  posterior, softmax at temperature sqrt(bytes) so that short and long texts are comparably
  calibrated), codes merged through :func:`babelir.types.normalize_lang` (``zh``, ``wuu`` and
  ``yue`` count as ``zh``).
- ``plausible_languages(text)``: the languages the text may be written in (those within a factor
  PLAUSIBLE_RATIO of the most likely one); hybrid search lets lexical evidence count only for
  documents in these languages (:mod:`babelir.retrieve.language_gate`).
- ``look_alikes(code)``: the languages a detected code may stand for. py3langid knows neither
  Tigrinya nor Tibetan: it answers ``am`` (Amharic) for any text in the Ethiopic script and ``dz``
  (Dzongkha) for any text in the Tibetan script, so those answers are ambiguous and babelir says so.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from babelir.types import normalize_lang

_LOCK = threading.Lock()

# A language is plausible for a text when its probability is at least this share of the best
# one's. Chosen on the questions and the (letter-bearing) answer spans of XQuAD-R's train articles
# (benchmarks/langid_plausible.py): the text's own language stays plausible for 99.96% of questions
# and 98.3% of answer spans; another XQuAD-R language is plausible for 1.3% of questions.
PLAUSIBLE_RATIO = 0.01

# The detector's answer -> the languages it stands for: py3langid was not trained on Tigrinya or
# Tibetan, and gives every text of their scripts to the one language of that script it knows.
LOOK_ALIKES = {"am": ("am", "ti"), "dz": ("bo", "dz")}


def look_alikes(code: str) -> tuple[str, ...]:
    """The languages a detected ``code`` may stand for (``("am", "ti")`` for ``am``; ``(code,)``
    for a code the detector tells apart from every other)."""
    return LOOK_ALIKES.get(code, (code,))


def ambiguity_note(code: str) -> str | None:
    """A one-line note when the detector cannot tell ``code`` from another language, else None."""
    others = [lang for lang in look_alikes(code) if lang != code]
    if not others:
        return None
    return (f"the language detector cannot tell {code} from {', '.join(others)} (it was not trained on "
            f"{', '.join(others)}); give the language to decide")


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


@lru_cache(maxsize=1)
def _calibrated():
    """py3langid's identifier with normalised (calibrated) probabilities, over all its languages."""
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def detect(text: str, among: tuple[str, ...] | None = None, plausible: frozenset[str] | None = None) -> str:
    """The most likely language of ``text`` (``und`` when it holds no letters and ``among`` does
    not name exactly one language).

    With ``among`` (codes, e.g. an index's languages), always one of them: the only one when there
    is one (a one-word query over an English-only index is English, however German "hospital"
    looks); else the most likely of those that are plausible for the text
    (:func:`plausible_languages`), or of all of them when none is (a Tibetan query over English
    and Thai documents). ``plausible``: :func:`plausible_languages` of the text when the caller
    has it already."""
    among = tuple(sorted(set(among))) if among else None
    if among and len(among) == 1:
        return among[0]
    if not _has_letters(text):
        return "und"
    if among:
        plausible = plausible if plausible is not None else plausible_languages(text)
        candidates = tuple(sorted(set(among) & plausible)) if plausible else ()
        among = candidates or among
        if len(among) == 1:
            return among[0]
    identifier = _restricted(among) if among else None
    if identifier is None:
        from py3langid.langid import classify  # loads its model on first use

        lang, _ = classify(text)
    else:
        with _LOCK:
            lang, _ = identifier.classify(text)
    code = normalize_lang(lang) or "und"
    if among and code not in among:  # fewer than two of them are known to the detector
        return next((alike for alike in look_alikes(code) if alike in among), among[0])
    return code


def language_probabilities(text: str) -> dict[str, float]:
    """``code -> probability`` over every language the detector knows (summing to 1), codes
    canonical; ``{}`` for a text without letters."""
    if not _has_letters(text):
        return {}
    probabilities: dict[str, float] = {}
    for label, probability in _calibrated().rank(text):
        code = normalize_lang(label) or "und"
        probabilities[code] = probabilities.get(code, 0.0) + probability
    return probabilities


def plausible_languages(text: str, ratio: float = PLAUSIBLE_RATIO) -> frozenset[str] | None:
    """The languages ``text`` may be written in: those whose probability is at least ``ratio``
    times the most likely one's, with the languages each stands for (:func:`look_alikes`).
    None when the text has no letters (any language is possible)."""
    probabilities = language_probabilities(text)
    probabilities.pop("und", None)
    if not probabilities:
        return None
    best = max(probabilities.values())
    return frozenset(alike for code, p in probabilities.items() if p >= ratio * best for alike in look_alikes(code))
