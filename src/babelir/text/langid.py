"""Language identification, offline (py3langid), per document or per query.

- ``detect(text)``: babelir's language code for ``text`` (``detect(text, among=…)`` always answers
  one of the given languages, preferring those of the text's script and plausible for it, with
  the index's document counts as a prior: search knows which languages its index holds, and a
  one-word query such as "hospital" is otherwise easily taken for another language, German here,
  and then analysed unlike the English documents it should find).
- ``detect_document(text, held)``: the language of a document indexed without one, kept to the
  languages its index holds where one is plausible ("hello there" is not Sesotho in an English index).
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

import math
from collections.abc import Mapping
from functools import lru_cache

from babelir.types import normalize_lang

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


@lru_cache(maxsize=1)
def _calibrated():
    """py3langid's identifier with normalised (calibrated) probabilities, over all its languages."""
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _evidence(text: str) -> bool:
    """Whether the detector finds any of its features in ``text`` ("the", "ok", "x" hold none: its
    answer for them is its prior, not evidence)."""
    from py3langid.langid import visit_counts

    identifier = _calibrated()
    try:
        return bool(visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output,
                                 identifier._encode(text)))
    except AttributeError:  # another py3langid: assume there is evidence
        return True


def detect(text: str, among: tuple[str, ...] | Mapping[str, int] | None = None,
           plausible: frozenset[str] | None = None) -> str:
    """The most likely language of ``text``; ``und`` when it holds no letters and ``among`` does
    not name exactly one language, or, without ``among``, when the detector finds no evidence in it
    (a one-word "the" or "ok" would otherwise get its prior's favourite, Afrikaans).

    With ``among`` (codes, e.g. an index's languages, or ``code -> document count``), always one
    of them: the only one when there is one (a one-word query over an English-only index is
    English, however German "hospital" looks); else one whose script is the text's (a Latin-script
    text never gets ar, th or zh; ``und`` when none of them is written in that script, so that the
    text is analysed by its script: a Han query over an en/de/th index), of those the ones
    plausible for the text (:func:`plausible_languages`), the most likely of them. Given document
    counts, they are a prior beside the detector's (a query without evidence, "paris", is in the
    language most documents are in; a long text's own evidence outweighs it). ``plausible``:
    :func:`plausible_languages` of the text when the caller has it already."""
    counts = {code: n for code, n in among.items() if code != "und"} if isinstance(among, Mapping) else None
    among = tuple(sorted(set(among) - ({"und"} if counts is not None else set()))) if among else None
    if among and len(among) == 1:
        return among[0]
    if not _has_letters(text):
        return "und"
    if not among:
        if not _evidence(text):
            return "und"
        from py3langid.langid import classify  # loads its model on first use

        lang, _ = classify(text)
        return normalize_lang(lang) or "und"
    return _choose(text, among, counts, plausible)


def detect_document(text: str, held: Mapping[str, int] | None = None) -> str:
    """The language of a document given without one, for an index that holds ``held`` (``code ->
    document count``; languages already resolved in the same run count too): its detected language
    when the index holds it or holds nothing; else the most likely held language that is plausible
    for the text and written in its script ("hello there" is not Sesotho in an English index);
    else, none being plausible, the detected language (a genuinely new language: a Thai document
    in an English index)."""
    code = detect(text)
    held = {lang: n for lang, n in (held or {}).items() if lang != "und" and n > 0}
    if not held or code in held or not _has_letters(text):
        return code
    from babelir.text.scripts import language_scripts, text_scripts

    plausible = plausible_languages(text)
    scripts = text_scripts(text)
    fitting = {lang: n for lang, n in held.items()
               if (plausible is None or lang in plausible) and language_scripts(lang) & scripts}
    if not fitting:
        return code
    return detect(text, among=fitting, plausible=plausible)


def _choose(text: str, among: tuple[str, ...], counts: dict[str, int] | None,
            plausible: frozenset[str] | None) -> str:
    """:func:`detect` among two or more languages (sorted) for a text with letters."""
    from babelir.text.scripts import language_scripts, text_scripts

    scripts = text_scripts(text)
    candidates = tuple(code for code in among if language_scripts(code) & scripts)
    if not candidates:  # no language of ``among`` is written in the text's script: 東京 is not Thai
        return "und"
    plausible = plausible if plausible is not None else plausible_languages(text)
    candidates = tuple(code for code in candidates if plausible and code in plausible) or candidates
    if len(candidates) == 1:
        return candidates[0]
    probabilities = language_probabilities(text)
    # the document counts as a prior under the detector's temperature (sqrt of the bytes)
    temperature = math.sqrt(max(1, len(text.encode("utf-8", "surrogatepass"))))
    total = sum(counts.values()) if counts else 0

    def score(code: str) -> tuple[float, int, bool]:
        p = sum(prob for label, prob in probabilities.items() if code in look_alikes(label))
        n = counts.get(code, 0) if counts else 0
        prior = ((n + 1) / (total + len(candidates))) ** (1 / temperature) if counts else 1.0
        return p * prior, n, code == "en"  # a tie (a word without evidence, languages alike): English

    return max(candidates, key=score)


def language_probabilities(text: str) -> dict[str, float]:
    """``code -> probability`` over every language the detector knows (summing to 1), codes
    canonical; ``{}`` for a text without letters."""
    if not _has_letters(text):
        return {}
    return dict(_probabilities(text) if len(text) <= 1000 else _probabilities.__wrapped__(text))


@lru_cache(maxsize=1024)
def _probabilities(text: str) -> tuple[tuple[str, float], ...]:
    probabilities: dict[str, float] = {}
    for label, probability in _calibrated().rank(text):
        code = normalize_lang(label) or "und"
        probabilities[code] = probabilities.get(code, 0.0) + probability
    return tuple(probabilities.items())


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
