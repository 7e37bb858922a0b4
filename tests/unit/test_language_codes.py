"""One code per language: every form of a code, and every code the detector returns, map through one table."""

import pytest

from babelir.text.langid import ambiguity_note, detect, look_alikes, plausible_languages
from babelir.types import macrolanguage, normalize_lang


def _detector_labels():
    from pathlib import Path

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE).labels


def test_every_form_of_every_iso_language_gets_one_code():
    from iso639 import iter_langs

    checked = 0
    for lang in iter_langs():
        forms = {code for code in (lang.pt1, lang.pt2b, lang.pt2t, lang.pt3, lang.pt5) if code and len(code) in (2, 3)}
        canonical = {normalize_lang(code) for code in forms}
        assert len(canonical) == 1, (lang, canonical)
        code = canonical.pop()
        assert normalize_lang(code) == code, (lang, code)  # canonical codes are fixed points
        checked += 1
    assert checked > 7000


def test_every_code_the_detector_returns_agrees_with_the_normaliser():
    from iso639 import Lang
    from iso639.exceptions import InvalidLanguageValue

    labels = _detector_labels()
    assert len(labels) > 90
    for label in labels:
        code = normalize_lang(label)
        assert normalize_lang(code) == code
        if label == "zxx":  # "no linguistic content"
            assert code == "und"
            continue
        try:
            lang = Lang(label)
        except InvalidLanguageValue:
            pytest.fail(f"the detector returns {label!r}, which is no ISO 639 code")
        # the detector's code and the ISO 639-3 code of the same language give one code
        assert normalize_lang(lang.pt3) == code, (label, lang)


@pytest.mark.parametrize("iso3,detected", [("ory", "or"), ("uig", "ug"), ("quy", "qu"), ("que", "qu"),
                                           ("bod", "bo"), ("tib", "bo"), ("arb", "ar"), ("cmn", "zh"),
                                           ("swh", "sw"), ("kat", "ka"), ("zul", "zu"), ("ibo", "ig"),
                                           ("tir", "ti"), ("iw", "he"), ("fil", "tl"), ("ckb", "ckb")])
def test_the_issue_codes(iso3, detected):
    assert normalize_lang(iso3) == normalize_lang(detected) == detected


@pytest.mark.parametrize("lang,text", [
    ("or", "ଓଡ଼ିଆ ଭାରତର ଓଡ଼ିଶା ରାଜ୍ୟର ସରକାରୀ ଭାଷା ଅଟେ।"),
    ("ug", "ئۇيغۇر تىلى شىنجاڭدىكى ئۇيغۇرلارنىڭ ئانا تىلى."),
    ("ka", "საქართველოს დედაქალაქი თბილისია და ის მდებარეობს მტკვრის ნაპირზე."),
    ("qu", "Runasimiqa Urin Awya Yalapi achka runakunap rimasqanmi."),
])
def test_detected_codes_are_the_normalisers_codes(lang, text):
    assert detect(text) == lang == normalize_lang({"or": "ory", "ug": "uig", "ka": "kat", "qu": "quy"}[lang])


@pytest.mark.parametrize("text,detected,other", [
    ("བོད་ཀྱི་སྐད་ཡིག་ནི་བོད་ཡུལ་གྱི་སྐད་ཡིག་ཡིན།", "dz", "bo"),  # Tibetan
    ("ትግርኛ ቋንቋ ኣብ ኤርትራን ኢትዮጵያን ይዝረብ።", "am", "ti"),  # Tigrinya
])
def test_look_alikes_the_detector_cannot_tell_apart_are_said(text, detected, other):
    assert detect(text) == detected
    assert set(look_alikes(detected)) == {detected, other}
    assert other in ambiguity_note(detected)
    assert {detected, other} <= plausible_languages(text)
    assert ambiguity_note("en") is None and look_alikes("en") == ("en",)


def test_macrolanguages():
    assert macrolanguage("nb") == macrolanguage("nn") == macrolanguage("no") == "no"
    assert macrolanguage("id") == macrolanguage("ms") == "ms"
    assert macrolanguage("en") == "en" and macrolanguage("und") == "und" and macrolanguage(None) is None


def test_a_code_iso_does_not_know_is_a_user_error():
    from babelir.errors import BabelirError

    for code in ("xx", "zz", "xyz"):
        with pytest.raises(BabelirError, match="unknown language code"):
            normalize_lang(code)
    assert normalize_lang("qaa") == "qaa" and normalize_lang("qtz") == "qtz"  # reserved for local use
    assert normalize_lang("und") == "und" and normalize_lang("zxx") == "und"


def test_an_unknown_code_with_a_subtag_is_quoted_as_given():
    """A fresh user's trial: "xx-nope" was quoted as 'xx'."""
    from babelir.errors import BabelirError

    with pytest.raises(BabelirError, match="unknown language code 'XX_Nope': 'xx' is not in ISO 639"):
        normalize_lang("XX_Nope")
