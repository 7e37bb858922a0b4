"""Issue 18, item 4: a query is analysed in a language its index holds, unless the user says
otherwise; on a multilingual index the CLI says which language a detected query was analysed in."""

import json

import pytest

from babelir.index.core import Index
from babelir.retrieve.language_gate import analysis_language, held_languages
from babelir.text.langid import detect
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.types import Doc, Query

ENGLISH = [Doc("h", "The hospital opened a new wing for children.", lang="en"),
           Doc("l", "Public libraries lend books and music.", lang="en"),
           Doc("c", "Old computers were slow and loud.", lang="en"),
           Doc("s", "The station closed at night.", lang="en")]
ONE_WORD = [("hospital", "h"), ("libraries", "l"), ("computers", "c"), ("Hospital", "h"), ("COMPUTERS", "c")]


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    directory = tmp_path_factory.mktemp("q") / "en"
    with Index.create(directory, analyzer=LanguageAwareAnalyzer(pieces=False)) as index:  # words must match
        index.add(ENGLISH)
    return directory


def test_detection_among_one_language_is_that_language():
    for word in ("hospital", "libraries", "computers", "Bibliothek", "ภาษา"):
        assert detect(word, among=("en",)) == "en"


def test_detection_among_several_stays_among_them():
    assert detect("བོད་ཀྱི་སྐད་ཡིག", among=("en", "th")) == "und"   # written in neither's script: its script's analysis
    assert detect("Die Bibliothek ist heute geschlossen", among=("de", "en")) == "de"
    assert detect("hospital", among=("en", "fr", "de")) in ("en", "fr", "de")


def test_the_library_function_uses_the_index_languages(english):
    with Index.open(english) as index:
        assert held_languages(index) == ("en",)
        for word, _ in ONE_WORD:
            assert analysis_language(Query("q", word), index) == "en"
        assert analysis_language(Query("q", "hospital"), index, "de") == "de"   # the user said so
        assert analysis_language(Query("q", "hospital", lang="ca"), index) == "ca"


@pytest.mark.parametrize("mode", ["bm25"])
def test_one_word_queries_find_their_documents_through_the_retriever(english, mode):
    from babelir.retrieve.pipeline import from_mode

    retriever = from_mode(english, mode)
    run = retriever.retrieve([Query(str(i), word) for i, (word, _) in enumerate(ONE_WORD)], k=3)
    for i, (_, doc) in enumerate(ONE_WORD):
        assert run.ranking(str(i))[0][0] == doc
    retriever.close()


def test_one_word_queries_find_their_documents_on_the_command_line(english, capsys):
    from babelir.cli import main

    for word, doc in ONE_WORD:
        assert main(["search", str(english), "--query", word, "--k", "3"]) in (0, None)
        out = capsys.readouterr()
        assert out.out.split()[1] == doc, out.out
        assert "analysed as" not in out.err   # one language: nothing to say


def test_one_word_queries_find_their_documents_over_http(english):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from babelir.serve.app import create_app

    with TestClient(create_app({"en": english})) as client:
        for word, doc in ONE_WORD:
            body = client.get("/v1/search", params={"index": "en", "q": word, "k": 3}).json()
            assert body["detected_lang"] == "en"
            assert body["results"][0]["id"] == doc, json.dumps(body)


def test_a_multilingual_index_says_which_language_was_used(tmp_path, capsys):
    from babelir.cli import main

    with Index.create(tmp_path / "ix") as index:
        index.add(ENGLISH + [Doc("f", "L'hôpital a ouvert une nouvelle aile.", lang="fr")])
    assert main(["search", str(tmp_path / "ix"), "--query", "hospital", "--k", "3"]) in (0, None)
    out = capsys.readouterr()
    assert "query analysed as " in out.err and out.err.split("query analysed as ")[1][:2] in ("en", "fr")
    assert main(["search", str(tmp_path / "ix"), "--query", "hospital", "--lang", "en"]) in (0, None)
    assert "analysed as" not in capsys.readouterr().err
