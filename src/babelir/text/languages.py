"""The per-language analysis table: which normaliser, segmenter, stemmer and apostrophe rule
each language gets. Languages not listed are analysed with the script-aware default
(NFKC, case folding, ICU words).

Choices measured on XQuAD-R (docs/benchmarks.md): Snowball stemming helps every language that
has it; lemmatising with simplemma's dictionaries before the stemmer helps further (chosen on the
questions of XQuAD-R's train articles: tr +.038, ar +.017, en +.008, hi +.004, ru +.003, de +.002,
el and es level), so every language with both a stemmer and a simplemma dictionary gets it;
stopword removal (stopwordsiso) lowers nDCG@10 slightly on most, so it is an option, off by
default; for Chinese, ICU's dictionary segmentation scores higher than jieba (.818 vs .810), so ICU
stays the default and jieba is an option.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Pipeline:
    """One language's analysis: ``normalizer`` and ``segmenter`` names, a ``stemmer`` spec or
    None, a ``lemmatizer`` (simplemma's language code, applied before the stemmer) or None, an
    ``apostrophe`` rule (``elision``: drop an elided article such as French ``l'``;
    ``suffix``: drop a suffix after the apostrophe as in Turkish ``İstanbul'da``; None) and the
    ``segmenter`` to use when a dictionary segmenter's package is present (``preferred``), and
    whether the mE5 subword pieces of the text are added to its words (``pieces``, see
    :mod:`babelir.text.e5_pieces`)."""

    name: str
    normalizer: str = "default"
    segmenter: str = "icu"
    stemmer: str | None = None
    apostrophe: str | None = None
    preferred: str | None = None
    lemmatizer: str | None = None
    pieces: bool = True


def _snow(algorithm: str) -> str:
    return f"snowball:{algorithm}"


LANGUAGES: dict[str, Pipeline] = {p_lang: p for p_lang, p in [
    # MIRACL's 18
    ("ar", Pipeline("Arabic", "arabic", stemmer="arabic-light+snowball")),
    ("bn", Pipeline("Bengali", "indic")),
    ("de", Pipeline("German", stemmer=_snow("german"))),
    ("en", Pipeline("English", stemmer=_snow("english"))),
    ("es", Pipeline("Spanish", stemmer=_snow("spanish"))),
    ("fa", Pipeline("Persian", "persian", stemmer=_snow("persian"))),
    ("fi", Pipeline("Finnish", stemmer=_snow("finnish"))),
    ("fr", Pipeline("French", stemmer=_snow("french"), apostrophe="elision")),
    ("hi", Pipeline("Hindi", "indic", stemmer=_snow("hindi"))),
    ("id", Pipeline("Indonesian", stemmer=_snow("indonesian"))),
    ("ja", Pipeline("Japanese", preferred="sudachi")),
    ("ko", Pipeline("Korean", preferred="kiwi")),
    ("ru", Pipeline("Russian", "cyrillic", stemmer=_snow("russian"))),
    ("sw", Pipeline("Swahili")),
    ("te", Pipeline("Telugu", "indic")),
    ("th", Pipeline("Thai")),
    ("yo", Pipeline("Yoruba", "tone-marks")),
    ("zh", Pipeline("Chinese")),
    # CIRAL, XQuAD-R
    ("ha", Pipeline("Hausa")),
    ("so", Pipeline("Somali")),
    ("el", Pipeline("Greek", "greek", stemmer=_snow("greek"))),
    ("tr", Pipeline("Turkish", "turkish", stemmer=_snow("turkish"), apostrophe="suffix")),
    ("vi", Pipeline("Vietnamese")),
    # further languages
    ("km", Pipeline("Khmer")),
    ("lo", Pipeline("Lao")),
    ("my", Pipeline("Burmese")),
    ("am", Pipeline("Amharic")),
    ("ta", Pipeline("Tamil", "indic", stemmer=_snow("tamil"))),
    ("ur", Pipeline("Urdu", "urdu")),
    ("ne", Pipeline("Nepali", "indic", stemmer=_snow("nepali"))),
    ("he", Pipeline("Hebrew", "hebrew")),
    ("uk", Pipeline("Ukrainian", "cyrillic")),
    ("be", Pipeline("Belarusian", "cyrillic")),
    ("pl", Pipeline("Polish", stemmer=_snow("polish"))),
    ("nl", Pipeline("Dutch", stemmer=_snow("dutch"))),
    ("pt", Pipeline("Portuguese", stemmer=_snow("portuguese"))),
    ("it", Pipeline("Italian", stemmer=_snow("italian"), apostrophe="elision")),
    ("ca", Pipeline("Catalan", stemmer=_snow("catalan"), apostrophe="elision")),
    ("sv", Pipeline("Swedish", stemmer=_snow("swedish"))),
    ("da", Pipeline("Danish", stemmer=_snow("danish"))),
    ("no", Pipeline("Norwegian", stemmer=_snow("norwegian"))),
    ("nb", Pipeline("Norwegian Bokmål", stemmer=_snow("norwegian"))),
    ("hu", Pipeline("Hungarian", stemmer=_snow("hungarian"))),
    ("ro", Pipeline("Romanian", stemmer=_snow("romanian"))),
    ("cs", Pipeline("Czech", stemmer=_snow("czech"))),
    ("lt", Pipeline("Lithuanian", stemmer=_snow("lithuanian"))),
    ("et", Pipeline("Estonian", stemmer=_snow("estonian"))),
    ("eu", Pipeline("Basque", stemmer=_snow("basque"))),
    ("ga", Pipeline("Irish", stemmer=_snow("irish"))),
    ("hy", Pipeline("Armenian", stemmer=_snow("armenian"))),
    ("sr", Pipeline("Serbian", "cyrillic", stemmer=_snow("serbian"))),
    ("tl", Pipeline("Tagalog")),
    ("mr", Pipeline("Marathi", "indic")),
    ("gu", Pipeline("Gujarati", "indic")),
    ("pa", Pipeline("Punjabi", "indic")),
    ("kn", Pipeline("Kannada", "indic")),
    ("ml", Pipeline("Malayalam", "indic")),
    ("si", Pipeline("Sinhala", "indic")),
    # added in analyzer version 4 (issue 17): what a well-kept library offers each, offline
    ("ka", Pipeline("Georgian")),              # simplemma's Georgian lemmas (below); no stemmer
    ("zu", Pipeline("Zulu")),                  # stopwordsiso's list (optional); no stemmer or lemmas
    ("ig", Pipeline("Igbo", "tone-marks", apostrophe="elision")),  # optional tone marks folded (dots kept); n' (na)
    ("qu", Pipeline("Quechua")),               # nothing beyond the default
    ("or", Pipeline("Odia", "indic")),         # nukta folded; Odia digits folded
    ("ug", Pipeline("Uyghur", "uyghur")),      # Arabic-script presentation forms and tatweel folded
    ("bo", Pipeline("Tibetan")),               # syllables (ICU breaks at the tsheg); no word dictionary
    ("dz", Pipeline("Dzongkha")),              # as Tibetan (same script)
    ("ti", Pipeline("Tigrinya")),              # words (ICU, Ethiopic word space ፡ too); no stemmer
]}
# The analyzer version that added a language's pipeline: an index built with an earlier version
# analyses that language with the script-aware default, as it did then.
ADDED_IN_VERSION = {lang: 4 for lang in ("ka", "zu", "ig", "qu", "or", "ug", "bo", "dz", "ti")}
# What each language added in version 4 lacks, and why (babelir analyzers prints it).
MISSING = {
    "ka": "no stemmer or stopword list in a well-kept library",
    "zu": "no stemmer or lemmatiser in a well-kept library",
    "ig": "no stemmer, lemmatiser or stopword list in a well-kept library",
    "qu": "no stemmer, lemmatiser or stopword list in a well-kept library",
    "or": "no stemmer, lemmatiser or stopword list in a well-kept library",
    "ug": "no stemmer, lemmatiser or stopword list in a well-kept library",
    "bo": "no offline word segmenter (botok downloads its dictionaries from GitHub at run time): indexed by "
          "syllable; mE5 has no pieces for the script",
    "dz": "no offline word segmenter: indexed by syllable, as Tibetan; mE5 has no pieces for the script",
    "ti": "no stemmer, lemmatiser or stopword list in a well-kept library (HornMorpho is not on PyPI)",
}

# Languages with a stemmer above whose lemmas simplemma's dictionaries give (language -> simplemma
# code), and Georgian, which has no stemmer but a simplemma dictionary.
LEMMATIZERS = {lang: lang for lang in ("ar ca cs da de el en es et fa fi fr ga hi hu hy id it lt nb nl pl pt ro "
                                       "ru sv tr").split()} | {"no": "nb", "ka": "ka"}
# Languages whose words are not joined by mE5 pieces: on the questions of XQuAD-R's train articles
# the pieces lowered BM25 nDCG@10 in Arabic (.7786 -> .7762) and Vietnamese (.8385 -> .8366) and
# raised it in the other nine (benchmarks/xquadr_pieces.py); languages not measured keep them.
# Tibetan and Dzongkha: mE5's vocabulary holds almost nothing of the Tibetan script (a sentence comes
# out as one piece, "ཀ"), so their pieces would only match every Tibetan text alike.
WITHOUT_PIECES = frozenset({"ar", "vi", "bo", "dz"})
LANGUAGES = {lang: replace(pipeline, lemmatizer=LEMMATIZERS.get(lang), pieces=lang not in WITHOUT_PIECES)
             for lang, pipeline in LANGUAGES.items()}

# Elided articles and prepositions dropped before an apostrophe (Lucene's ElisionFilter lists).
ELISIONS = {
    "fr": {"l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"},
    "it": {"c", "l", "all", "dall", "dell", "nell", "sull", "coll", "pell", "gl", "agl", "dagl", "degl", "negl",
           "sugl", "un", "m", "t", "s", "v", "d"},
    "ca": {"d", "l", "m", "n", "s", "t"},
    "ig": {"n"},  # Igbo n' (na, "in, at") before a vowel
}
