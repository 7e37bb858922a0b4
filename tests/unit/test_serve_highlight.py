"""Snippets and highlights at a bounded cost (babelir.serve.highlight), with a stand-in analyzer:
lower case, and English-like plural stemming (libraries -> librari, library -> librari)."""

import re

import pytest

pytest.importorskip("icu4py")
from babelir.serve.highlight import BUDGET_CHARS, SNIPPET_CHARS, WINDOW_CHARS, Highlighter  # noqa: E402


def stem(word: str) -> str:
    word = word.lower()
    return re.sub(r"(ies|y|s)$", lambda m: "i" if m.group(1) in ("ies", "y") else "", word)


class Counting:
    """``analyze_words`` that counts the characters it analyses."""

    def __init__(self):
        self.chars = 0

    def __call__(self, words, lang):
        self.chars += sum(map(len, words))
        return [[stem(w)] if w.lower() not in {"the", "of"} else [] for w in words]


def highlighter(query: str, analyze=None, **kwargs) -> Highlighter:
    analyze = analyze or Counting()
    terms = {t for w in query.split() for t in analyze([w], "en")[0]}
    return Highlighter(query, "en", terms, analyze, **kwargs)


def marked(snippet: str, marks) -> list[str]:
    return [snippet[s:e] for s, e in marks]


@pytest.mark.parametrize("where", [0, 1_000, 250_000, 4_999_000])
def test_a_match_anywhere_in_a_long_text_is_found_analysing_a_bounded_window(where):
    filler = "lorem ipsum dolor sit amet "
    text = (filler * (5_000_000 // len(filler)))[:where] + " the Libraries of Zanzibar " + filler * 50
    analyze = Counting()
    snippet, marks = highlighter("library", analyze).snippet(text, "en")
    assert marked(snippet, marks) == ["Libraries"]
    assert len(snippet) <= SNIPPET_CHARS + 2
    assert analyze.chars < 4 * WINDOW_CHARS  # not the 5 MB


def test_the_same_class_in_thai_and_with_several_terms():
    thai = "ภาษาไทย" * 20_000 + " ช้างเป็นสัตว์บกที่ใหญ่ที่สุด " + "ภาษาไทย" * 100

    def analyze(words, lang):
        return [[w] for w in words]

    snippet, marks = Highlighter("ช้าง", "th", {"ช้าง"}, analyze).snippet(thai, "th")
    assert marked(snippet, marks) == ["ช้าง"]
    text = "x " * 100_000 + "coffee grows in the highlands; monks drank coffee at night " + "y " * 1000
    snippet, marks = highlighter("coffee monks").snippet(text, "en")
    assert marked(snippet, marks) == ["coffee", "monks", "coffee"]


def test_false_candidates_are_skipped_and_the_work_stays_bounded():
    # "librarian" holds the probe "librari" but does not match; the real match comes later
    text = "a librarian spoke. " * 3 + "z " * 5_000 + "the libraries " + "z " * 100
    snippet, marks = highlighter("libraries").snippet(text, "en")
    assert marked(snippet, marks) == ["libraries"]
    # thousands of false candidates: at most a few windows are analysed, then the start is shown
    analyze = Counting()
    text = "librarian " * 500_000
    snippet, marks = highlighter("libraries", analyze).snippet(text, "en")
    assert marks == [] and snippet.startswith("librarian")
    assert analyze.chars < 5 * WINDOW_CHARS


def test_short_texts_are_analysed_whole_and_the_budget_caps_a_request():
    snippet, marks = highlighter("library").snippet("My library, your libraries.", "en")
    assert marked(snippet, marks) == ["library", "libraries"] and snippet == "My library, your libraries."
    analyze = Counting()
    one = highlighter("library", analyze, budget=3 * WINDOW_CHARS)
    text = "z " * 50_000 + "library " + "z " * 500
    results = [one.snippet(text, "en") for _ in range(20)]
    assert marked(*results[0]) == ["library"]
    assert results[-1][1] == [] and results[-1][0].startswith("z z")  # past the budget: the start, no marks
    assert analyze.chars < 3 * WINDOW_CHARS + 2 * WINDOW_CHARS
    assert BUDGET_CHARS >= 100 * 2 * SNIPPET_CHARS  # a full page of 100 hits fits the default budget


def test_no_query_terms_or_no_match_gives_the_start():
    assert highlighter("the of").snippet("the cat " * 1000, "en")[1] == []
    snippet, marks = highlighter("zebra").snippet("the cat " * 1000, "en")
    assert marks == [] and snippet.startswith("the cat") and snippet.endswith("…")


def test_word_analysis_leaves_out_subword_pieces_of_every_kind_of_analyzer():
    from babelir.serve.highlight import word_analysis
    from babelir.text.analyzer import get_analyzer

    analyzer = get_analyzer()
    words = word_analysis(analyzer)
    assert words("Libraries", "en") and not [t for t in words("Libraries", "en") if t.startswith("~")]
    assert set(words("Libraries", "en")) <= set(analyzer.analyze("Libraries", "en"))

    class Plain:
        def analyze(self, text, lang=None):
            return [text.lower()]

    class Combined:
        words = Plain()

        def analyze(self, text, lang=None):
            return self.words.analyze(text, lang) + ["#" + text[:2]]

    assert word_analysis(Plain())("Cat") == ["cat"]
    assert word_analysis(Combined())("Cat") == ["cat"]  # not "#Ca"
