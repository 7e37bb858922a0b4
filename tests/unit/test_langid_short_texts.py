"""A fresh user's trial (round 2): short texts detected as languages the index does not hold, or of
another script, and dotless ı folded inconsistently outside Turkic languages."""

import json

import pytest

from babelir.index.core import Index
from babelir.retrieve.language_gate import analysis_language, held_counts
from babelir.text.langid import detect, detect_document
from babelir.text.language_aware import LanguageAwareAnalyzer
from babelir.types import Doc, Query

EN_TH_ZH = {"en": 3, "th": 2, "zh": 2}
SHORT_ENGLISH = ["hello there", "hello world id test 9", "😀 pair ok", "The Tesla car is electric",
                 "hello world", "gz record 381 apple"]
GERMAN = ("Die Stadtbibliothek bleibt wegen Renovierungsarbeiten bis Ende des Monats geschlossen. Leser "
          "können ihre Bücher in der Zweigstelle am Marktplatz zurückgeben.")


def test_a_document_without_a_language_keeps_to_the_languages_the_index_holds():
    for text in SHORT_ENGLISH:
        assert detect(text) != "en"            # what the detector alone says (st, pcm, gd, an, ff)
        assert detect_document(text, EN_TH_ZH) == "en", text
    assert detect_document("ช้างเป็นสัตว์บกที่ใหญ่ที่สุด", EN_TH_ZH) == "th"
    assert detect_document("北京是中国的首都", {"en": 5, "th": 2}) == "zh"   # a new language: not plausible as held ones
    assert detect_document(GERMAN, {"en": 5}) == "de"
    assert detect_document("12345", EN_TH_ZH) == "und"


def test_a_text_without_evidence_is_und_when_nothing_else_decides():
    for text in ("the", "a", "ok", "x"):
        assert detect(text) == "und"
        assert detect_document(text, EN_TH_ZH) == "en"


def test_detection_among_held_languages_keeps_to_the_texts_script():
    for text in ("the", "a", "ok", "x", "paris"):
        assert detect(text, among=("ar", "en", "hi", "th", "zh")) == "en"
        assert detect(text, among={"ar": 50, "de": 2, "en": 3, "th": 50, "zh": 50}) in ("de", "en")
    assert detect("ภาษา", among=("ar", "en", "th")) == "th"
    assert detect("東京", among={"en": 100, "ja": 1, "zh": 1}) in ("ja", "zh")


def test_short_latin_queries_over_the_demo_languages_are_english_not_arabic():
    from collections import Counter

    from babelir.io.demo import load_demo

    counts = dict(Counter(d.lang for d in load_demo().docs))   # 12 languages, 20 documents each
    for word in ("the", "a", "ok", "x", "paris"):
        assert detect(word, among=counts) == "en", word
    for word, lang in (("кофе", "ru"), ("咖啡", "zh"), ("커피", "ko"), ("قهوة", "ar"), ("กาแฟ", "th"), ("kahawa", "sw")):
        assert detect(word, among=counts) == lang, word


def test_a_query_that_says_little_is_in_the_language_most_documents_are_in():
    counts = {"de": 100, "en": 300, "th": 100}
    for word in ("the", "paris", "Hospital", "hospital", "school"):
        assert detect(word, among=counts) == "en", word
    for word in ("the", "paris", "Hospital"):
        assert detect(word, among={"de": 300, "en": 100}) == "de", word
    for text in ("Krankenhaus", "Zeitung", "Die Bibliothek ist heute geschlossen"):   # evidence outweighs it
        assert detect(text, among=counts) == "de", text


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mixed") / "ix"
    docs = ([Doc(f"en-{i}", f"The city hospital number {i} treats patients.", lang="en") for i in range(6)]
            + [Doc(f"de-{i}", f"Das Krankenhaus Nummer {i} behandelt Patienten.", lang="de") for i in range(2)]
            + [Doc("ar-1", "المستشفى يعالج المرضى", lang="ar")])
    with Index.create(directory, analyzer=LanguageAwareAnalyzer(pieces=False)) as index:
        index.add(docs)
    return directory


def test_search_analyses_a_short_latin_query_in_the_main_latin_language(mixed, capsys):
    from babelir.cli import main

    with Index.open(mixed) as index:
        assert held_counts(index) == {"ar": 1, "de": 2, "en": 6}
        for word in ("the", "a", "ok", "x", "paris", "Hospital"):
            assert analysis_language(Query("q", word), index) == "en", word
        assert analysis_language(Query("q", "Krankenhaus"), index) == "de"
    assert main(["search", str(mixed), "--query", "hospital", "--k", "3"]) in (0, None)
    out = capsys.readouterr()
    assert "query analysed as en " in out.err and out.out.split()[1].startswith("en-"), out


def test_http_says_the_language_the_query_was_analysed_in(mixed, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from babelir.serve.app import create_app

    with TestClient(create_app({"m": mixed})) as client:
        for word in ("the", "ok", "hospital"):
            body = client.get("/v1/search", params={"index": "m", "q": word, "k": 3}).json()
            assert body["detected_lang"] == "en", json.dumps(body)


def test_documents_added_over_http_without_a_language_get_a_held_one(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from babelir.serve.app import create_app

    with Index.create(tmp_path / "ix", analyzer=LanguageAwareAnalyzer(pieces=False)) as index:
        index.add([Doc("e", "The library opens at nine.", lang="en"), Doc("t", "ห้องสมุดเปิดเก้าโมง", lang="th"),
                   Doc("z", "图书馆九点开门", lang="zh")])
    key = {"X-API-Key": "k"}
    with TestClient(create_app({"w": tmp_path / "ix"}, writable=True, api_key="k")) as client:
        new = [{"id": "l1", "text": "hello there"}, {"id": "l2", "text": "hello world id test 9"},
               {"id": "l3", "text": "😀 pair ok"}, {"id": "l4", "text": "ช้างเป็นสัตว์บก"}]
        assert client.post("/v1/docs/w", json={"documents": new}, headers=key).json() == {"added": 4}
        langs = {d["id"]: client.get(f"/v1/docs/w/{d['id']}").json()["lang"] for d in new}
        assert langs == {"l1": "en", "l2": "en", "l3": "en", "l4": "th"}
        assert client.get("/v1/search", params={"index": "w", "q": "hello world"}).json()["detected_lang"] == "en"


def test_documents_indexed_without_a_language_get_a_held_one(tmp_path):
    from babelir.index.build import build_index

    first = tmp_path / "a.jsonl"
    first.write_text("".join(json.dumps(d) + "\n" for d in [
        {"id": "e1", "text": "The library opens at nine.", "lang": "en"},
        {"id": "t1", "text": "ห้องสมุดเปิดเก้าโมง", "lang": "th"},
        {"id": "c1", "text": "The Tesla car is electric"},            # after the given English: en
        {"id": "c2", "text": "gz record 381 apple"}]))
    build_index(first, tmp_path / "ix", quiet=True, dense=False)
    with Index.open(tmp_path / "ix") as index:
        assert {d: lang for d, (lang, _, _) in index.documents(["c1", "c2"]).items()} == {"c1": "en", "c2": "en"}


def test_dotless_i_folds_to_i_outside_turkic_languages():
    analyzer = LanguageAwareAnalyzer(pieces=False)
    for written, plain in (("hıstory", "history"), ("hospıtal", "hospital"), ("ıstanbul", "istanbul")):
        assert analyzer.analyze(written, "en") == analyzer.analyze(plain, "en"), written
    assert analyzer.analyze("Kırıkkale", "de") == analyzer.analyze("Kirikkale", "de")
    assert analyzer.analyze("ışık", "tr") != analyzer.analyze("isik", "tr")            # Turkish keeps its ı
    assert analyzer.analyze("ışık", "az") != analyzer.analyze("isik", "az")
    assert analyzer.analyze("hıstory", None) == analyzer.analyze("history", None)


def test_an_index_of_version_5_keeps_its_dotless_i():
    from babelir.text.analyzer import analyzer_from_config

    old = analyzer_from_config({**LanguageAwareAnalyzer(pieces=False).config(), "version": 5})
    assert old.analyze("hıstory", "en") != old.analyze("history", "en")


def test_a_query_with_dotless_i_finds_the_document(tmp_path):
    from babelir.retrieve.pipeline import from_mode

    with Index.create(tmp_path / "ix", analyzer=LanguageAwareAnalyzer(pieces=False)) as index:
        index.add([Doc("h", "The hospital opened a new wing.", lang="en"),
                   Doc("m", "A history of the city museum.", lang="en")])
    retriever = from_mode(tmp_path / "ix", "bm25")
    run = retriever.retrieve([Query("1", "hospıtal"), Query("2", "HISTORY"), Query("3", "hıstory")], k=3)
    assert [run.ranking(q)[0][0] for q in ("1", "2", "3")] == ["h", "m", "m"]
    retriever.close()


def test_analyze_says_when_a_text_is_too_short_to_tell(capsys):
    from babelir.cli import main

    for text in ("a", "ok"):
        assert main(["analyze", "--no-pieces", text]) in (0, None)
        out = capsys.readouterr().out
        assert out.startswith("# detected language: und (too little text to tell"), out
    assert main(["analyze", "--no-pieces", "Die Kinder spielten gestern im großen Garten"]) in (0, None)
    assert capsys.readouterr().out.startswith("# detected language: de\n")


@pytest.mark.parametrize("text", ["東京", "ок", "мир во всём мире", "مرحبا", "Γειά σου"])
def test_a_query_in_a_script_no_held_language_uses_is_und_not_another_scripts_language(text):
    """A second trial: over an en/de/th index, 東京 and ок were analysed as Thai, مرحبا as English and
    Γειά σου as German. None of the index's languages is written in their script: und (the
    script's own analysis), never a language of another script."""
    held = {"en": 18, "de": 4, "th": 3}
    assert detect(text, among=held) == "und"
    assert detect(text, among=tuple(held)) == "und"
    assert detect("東京", among={**held, "ja": 1}) == "ja"  # once a language of the script is held, it is chosen
