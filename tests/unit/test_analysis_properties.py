"""Property tests: any Unicode text is analysed without error, deterministically, into terms that
the index can hold; a document is found by its own text used as a query."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelir.text.analyzer import ScriptAwareAnalyzer
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.text.languages import LANGUAGES

ANALYZERS = [ScriptAwareAnalyzer(), LanguageAwareAnalyzer(), LanguageAwareAnalyzer(stopwords=True)]
LANGS = st.sampled_from([None, "xx", *sorted(LANGUAGES)])
TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "Zs", "Cc", "Cf", "So"]), max_size=300),
    st.builds(lambda w, n: (w + " ") * n, st.text(min_size=1, max_size=5), st.integers(1, 50)),
    st.builds(lambda c, n: c * n, st.characters(categories=["L", "N"]), st.integers(200, 3000)),  # very long token
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, lang=LANGS)
def test_any_text_analyses_deterministically_into_clean_terms(text, lang):
    for analyzer in ANALYZERS:
        terms = analyzer.analyze(text, lang)
        assert terms == analyzer.analyze(text, lang)
        for term in terms:
            assert term and not any(ch.isspace() for ch in term)
            assert len(term) <= 255


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from babelir.index.core import Index

    ix = Index.create(tmp_path_factory.mktemp("prop") / "ix")
    yield ix
    ix.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, lang=LANGS)
def test_a_document_is_found_by_its_own_text(index, text, lang):
    from babelir.types import Doc

    doc_id = f"d{index.doc_count}"
    index.add([Doc(doc_id, text or "-", lang=lang)])
    if index.analyzer.analyze(text or "-", lang):
        assert doc_id in dict(index.search(text or "-", k=1000, lang=lang))
