"""Abstention in the HTTP API and on the web page (issue 22): ``abstain`` per search when the index
holds a calibration of the search's pipeline, ``null`` when it does not, a bad ``max_hallucination``
is a 422, a malformed calibration is a warning (never a 500), and the page says "No relevant
passage found" with the passages folded away.

The index: the demo's English and Thai documents (40), dense + BM25. The calibration: the demo's
72 queries, as ``babelir abstain calibrate --mode hybrid`` makes it; the English and Thai ones have
their relevant document in the index, the other languages' have none (NoMIRACL's non-relevant
subset).
"""

from __future__ import annotations

import logging
import shutil

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sklearn")
from fastapi.testclient import TestClient  # noqa: E402

from babelir.index.core import Index  # noqa: E402
from babelir.io.demo import load_demo  # noqa: E402

LANGS = {"en", "th"}
THAI = "ช้างเป็นสัตว์บกที่ใหญ่ที่สุด"
NONSENSE = "qwxz vbnm plok"  # no word of it in any document: BM25 finds nothing, dense only weak neighbours


def _calibrate(directory, queries, qrels) -> str:
    """What ``babelir abstain calibrate DIR --mode hybrid`` does (same library calls); the pipeline spec."""
    from babelir.abstain.calibration import default_path, fit
    from babelir.abstain.decide import search_with_features
    from babelir.abstain.features import feature_names
    from babelir.retrieve.pipeline import from_mode

    with Index.open(directory) as index:
        pipeline = from_mode(index, "hybrid")
        searched = search_with_features(pipeline, index, queries, 10, 10)
        found = [int(bool(set(searched.run.get(q.id, {})) & qrels.get(q.id, set()))) for q in queries]
        calibration = fit(pipeline.describe(), index, 10, feature_names(searched.signals), searched.signals,
                          [searched.features[q.id] for q in queries], found, [int(bool(qrels.get(q.id))) for q in queries],
                          [searched.langs[q.id] for q in queries])
        calibration.save(default_path(directory, calibration.pipeline))
        return calibration.pipeline


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """``cal``: calibrated for hybrid; ``plain``: the same documents, never calibrated; ``broken``:
    a copy of ``cal`` whose calibration file is cut in half."""
    from babelir.abstain.calibration import default_path
    from babelir.encode.base import get_encoder

    root = tmp_path_factory.mktemp("serve_abstain")
    demo = load_demo()
    docs = [d for d in demo.docs if d.lang in LANGS]
    for name in ("cal", "plain"):
        with Index.create(root / name, encoder=get_encoder()) as index:
            index.add(docs)
    held = {d.id for d in docs}
    qrels: dict[str, set[str]] = {}
    for qrel in demo.qrels:
        if qrel.relevance > 0 and qrel.doc_id in held:
            qrels.setdefault(qrel.query_id, set()).add(qrel.doc_id)
    spec = _calibrate(root / "cal", demo.queries, qrels)
    shutil.copytree(root / "cal", root / "broken")
    path = default_path(root / "broken", spec)
    path.write_text(path.read_text()[: len(path.read_text()) // 2])
    return {name: root / name for name in ("cal", "plain", "broken")}, demo.queries


@pytest.fixture(scope="module")
def client(indexes):
    from babelir.serve.app import create_app

    directories, _ = indexes
    with TestClient(create_app(directories)) as test_client:
        yield test_client


def _search(client, **params):
    response = client.get("/v1/search", params={"index": "cal", "mode": "hybrid", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_search_carries_abstain_when_calibrated(client):
    thai = _search(client, q=THAI)["abstain"]
    assert set(thai) == {"p", "answerable", "threshold", "lang", "model", "k"}
    assert thai["lang"] == "th" and thai["k"] == 10 and thai["model"] == "*"  # 6 Thai queries: all languages' model
    assert 0 <= thai["p"] <= 1 and thai["answerable"] == (thai["p"] >= thai["threshold"])
    assert thai["answerable"] and thai["p"] > 0.5, thai
    nonsense = _search(client, q=NONSENSE, lang="en")
    assert nonsense["results"] and not nonsense["abstain"]["answerable"], nonsense["abstain"]
    assert nonsense["abstain"]["p"] < thai["p"]
    # about the top k of the ranking, whatever the page
    assert _search(client, q=THAI, k=3, offset=5)["abstain"] == thai
    described = {d["name"]: d for d in client.get("/v1/indexes").json()["indexes"]}
    assert described["cal"]["calibrated"] == ["hybrid"] and described["plain"]["calibrated"] == []


def test_service_probabilities_are_babelir_search_s(client, indexes):
    """The service computes the features from its own search: the same P as ``babelir search
    --mode hybrid --abstain`` (Abstainer.search), query by query."""
    from babelir.abstain.decide import Abstainer
    from babelir.retrieve.pipeline import from_mode

    directories, queries = indexes
    with Index.open(directories["cal"]) as index:
        pipeline = from_mode(index, "hybrid")
        _, decisions = Abstainer.for_search(pipeline, index, directories["cal"]).search(queries, 10)
    for q in queries:
        served = _search(client, q=q.text, lang=q.lang)["abstain"]
        assert served["p"] == pytest.approx(decisions[q.id].p, abs=1e-3), q
        d = decisions[q.id]
        if abs(d.p - d.threshold) > 1e-3:  # the balanced threshold is some calibration query's own p
            assert served["answerable"] == d.answerable, q


def test_abstain_is_null_without_a_calibration(client):
    for index, mode in (("plain", "hybrid"), ("plain", "bm25"), ("cal", "bm25"), ("cal", "dense")):
        data = _search(client, index=index, mode=mode, q=THAI)
        assert data["abstain"] is None and data["results"], (index, mode)


def test_max_hallucination_moves_the_threshold(client):
    strict = _search(client, q=THAI, max_hallucination=0)["abstain"]
    lenient = _search(client, q=NONSENSE, lang="en", max_hallucination=1)["abstain"]
    default = _search(client, q=THAI)["abstain"]
    assert strict["threshold"] >= default["threshold"] and strict["p"] == default["p"]
    assert lenient["threshold"] == 0 and lenient["answerable"]  # every query answered
    assert not _search(client, q=NONSENSE, lang="en", max_hallucination=0)["abstain"]["answerable"]


@pytest.mark.parametrize("value", ["abc", "-0.1", "1.5", "nan", "inf", ""])
def test_a_bad_max_hallucination_is_a_422(client, indexes, value):
    directories, _ = indexes
    response = client.get("/v1/search", params={"index": "cal", "q": THAI, "max_hallucination": value})
    assert response.status_code == 422
    assert "max_hallucination" in response.text and str(directories["cal"].parent) not in response.text


def test_a_malformed_calibration_is_a_warning_and_null(client, indexes, caplog):
    from babelir.serve.app import create_app

    directories, _ = indexes
    with caplog.at_level(logging.WARNING, logger="babelir.serve"):
        app = create_app({"broken": directories["broken"]})
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "babelir.serve"]
    assert "index broken: calibration/" in warning and "not a calibration file" in warning, warning
    assert str(directories["broken"]) not in warning
    with TestClient(app) as broken:
        response = broken.get("/v1/search", params={"index": "broken", "q": THAI})
    assert response.status_code == 200 and response.json()["abstain"] is None


def test_the_calibration_is_loaded_once(indexes, monkeypatch):
    from babelir.abstain import calibration
    from babelir.serve.app import create_app

    directories, _ = indexes
    calls = []
    real = calibration.load
    monkeypatch.setattr(calibration, "load", lambda path: calls.append(path) or real(path))
    with TestClient(create_app({"cal": directories["cal"]})) as fresh:
        for q in (THAI, NONSENSE, "where does coffee come from"):
            assert fresh.get("/v1/search", params={"index": "cal", "q": q}).json()["abstain"] is not None
    assert len(calls) == 1


def test_serve_prints_which_modes_carry_abstention():
    from babelir.cli.serve_cmd import abstention_line

    assert abstention_line("demo", {"hybrid": "hybrid(bm25,dense,fusion=zscore)", "dense": None, "bm25": None}) == (
        "abstention in demo: hybrid calibrated; dense, bm25 none (babelir abstain calibrate INDEX … --mode MODE)")


# --- the web page in headless Chromium (as tests/integration/test_browser.py) --------------------


@pytest.fixture(scope="module")
def page(indexes):
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from babelir.serve.app import create_app
    from tests.conftest import served_in_thread
    from tests.integration.test_browser import _browser_paths

    chromium, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,900"):
        options.add_argument(flag)
    directories, _ = indexes
    with served_in_thread(create_app({"cal": directories["cal"]})) as url:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver, url
        finally:
            driver.quit()


def _type(driver, url, query):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#modes button"))
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)
    WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "verdict").get_attribute("data-answerable"))
    return driver.find_element(By.ID, "verdict")


def test_page_says_no_relevant_passage_and_folds_the_passages(page):
    from selenium.webdriver.common.by import By

    driver, url = page
    verdict = _type(driver, url, NONSENSE)
    assert verdict.get_attribute("data-answerable") == "false"
    assert "No relevant passage found" in verdict.text and "P(relevant in top 10) = 0." in verdict.text
    hits = driver.find_elements(By.CSS_SELECTOR, "#results li")
    assert hits and not any(hit.is_displayed() for hit in hits)  # there, but folded away
    driver.find_element(By.CSS_SELECTOR, "#closest summary").click()
    assert all(hit.is_displayed() for hit in hits)
    driver.save_screenshot(str(_artifacts() / "serve-abstain-not-answerable.png"))


def test_page_shows_answerable_results_with_their_probability(page):
    from selenium.webdriver.common.by import By

    driver, url = page
    verdict = _type(driver, url, THAI)
    assert verdict.get_attribute("data-answerable") == "true" and verdict.text.startswith("P(relevant in top 10) = ")
    assert "No relevant passage" not in driver.find_element(By.TAG_NAME, "main").text
    assert not driver.find_element(By.ID, "closest").is_displayed()
    first = driver.find_element(By.CSS_SELECTOR, "#results li")
    assert first.is_displayed() and first.get_attribute("data-id") == "th-elephants"


def _artifacts():
    from tests.integration.test_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
