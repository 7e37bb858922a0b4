"""The web page in headless Chromium (Debian's chromium + chromedriver, driven by Selenium):
Thai, Chinese and Arabic queries typed into the page, results and highlights checked, keyboard use,
and a screenshot saved to test-artifacts/ as a test artifact.

``make test`` installs chromium, chromium-driver and the Noto fonts; under
BABELIR_REQUIRE_BROWSER=1 (set by ``make test``) a missing browser fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
selenium = pytest.importorskip("selenium")

from babelir.index.core import Index  # noqa: E402
from babelir.io.demo import load_demo  # noqa: E402
from tests.conftest import served_in_thread  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        message = "chromium and chromedriver are needed (make test installs them with apt)"
        if os.environ.get("BABELIR_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and BABELIR_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return chromium, driver


PAGING_DOCS = 153  # more than the 100 the page used to stop at, and not a multiple of the page size


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``babelir serve``'s app over the demo collection (BM25 + dense), and an index ``paging`` of
    153 documents that all match "coffee" (BM25), on a free loopback port."""
    from babelir.encode.base import get_encoder
    from babelir.serve.app import create_app
    from babelir.types import Doc

    directory = tmp_path_factory.mktemp("browser") / "demo"
    with Index.create(directory, encoder=get_encoder()) as index:
        index.add(load_demo().docs)
    paging = directory.parent / "paging"
    with Index.create(paging) as index:
        index.add([Doc(f"cup-{i:03d}", f"Cup {i}: coffee {'and milk ' * (i % 7)}with {'sugar ' * (i % 5)}", lang="en")
                   for i in range(PAGING_DOCS)])
    with served_in_thread(create_app({"demo": directory, "paging": paging})) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to see Content-Security-Policy reports
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,900",
                 "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _search(browser, server, query: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#modes .toggle")))
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query, Keys.ENTER)
    wait.until(lambda b: b.find_element(By.ID, "status").text.startswith(tuple("0123456789")))
    return browser.find_elements(By.CSS_SELECTOR, "#results li")


@pytest.mark.parametrize("query, lang, expected, name", [
    ("ช้างเป็นสัตว์บกที่ใหญ่ที่สุด", "th", "th-elephants", "thai"),
    ("咖啡从哪里来", "zh", "zh-coffee", "chinese"),
    ("ما الذي يسبب المد والجزر", "ar", "ar-moon", "arabic"),
])
def test_typed_queries_find_and_highlight(browser, server, query, lang, expected, name):
    from selenium.webdriver.common.by import By

    results = _search(browser, server, query)
    assert results, "no results shown"
    status = browser.find_element(By.ID, "status")
    assert status.get_attribute("data-lang") == lang and f"query language: {lang}" in status.text
    top = results[0]
    assert top.get_attribute("data-id") == expected
    assert top.find_element(By.CSS_SELECTOR, ".badge").text == lang
    marks = [m.text for m in top.find_elements(By.TAG_NAME, "mark")]
    assert marks and all(m.strip() for m in marks), marks
    snippet = top.find_element(By.CSS_SELECTOR, ".snippet")
    direction = browser.execute_script("return getComputedStyle(arguments[0]).direction", snippet)
    assert direction == ("rtl" if lang == "ar" else "ltr")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / f"search-{name}.png"))


def test_keyboard_modes_language_chips_and_paging(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    results = _search(browser, server, "coffee")
    assert len(results) == 10 and not browser.find_element(By.ID, "next").get_attribute("disabled")
    first_page = [r.get_attribute("data-id") for r in results]
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()
    body.send_keys("/")  # "/" focuses the search box
    assert browser.switch_to.active_element.get_attribute("id") == "q"
    browser.find_element(By.ID, "next").send_keys(Keys.ENTER)  # buttons work from the keyboard
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: "page 2" in b.find_element(By.ID, "page").text)
    second_page = [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "#results li")]
    assert second_page and not set(first_page) & set(second_page)
    chip = browser.find_element(By.CSS_SELECTOR, '#chips .chip[data-lang="zh"]')
    chip.send_keys(Keys.SPACE)
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, '#chips .chip[data-lang="zh"]')
               .get_attribute("aria-pressed") == "true")
    wait.until(lambda b: all(r.get_attribute("data-lang") == "zh"
                             for r in b.find_elements(By.CSS_SELECTOR, "#results li")))
    assert browser.find_elements(By.CSS_SELECTOR, "#results li")[0].get_attribute("data-id") == "zh-coffee"
    bm25 = browser.find_element(By.CSS_SELECTOR, '#modes .toggle[data-mode="bm25"]')
    bm25.send_keys(Keys.ENTER)
    wait.until(lambda b: "mode bm25" in b.find_element(By.ID, "status").text)
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "search-filtered.png"))


def test_paging_reaches_the_last_result(browser, server):
    """The page follows ``total`` to its last result (it used to stop at 100), and every result is
    shown once."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    _search(browser, server, "coffee")  # loads the page (the demo index first)
    Select(browser.find_element(By.ID, "index")).select_by_value("paging")
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_element(By.ID, "status").text.startswith(f"{PAGING_DOCS} results"))
    pages = -(-PAGING_DOCS // 10)
    seen = []
    for number in range(1, pages + 1):
        wait.until(lambda b, n=number: f"page {n} of {pages}" in b.find_element(By.ID, "page").text)
        items = browser.find_elements(By.CSS_SELECTOR, "#results li")
        assert browser.find_element(By.ID, "results").get_attribute("start") == str(len(seen) + 1)
        assert browser.find_element(By.ID, "status").text.startswith(f"{PAGING_DOCS} results")
        seen += [item.get_attribute("data-id") for item in items]
        following = browser.find_element(By.ID, "next")
        if number < pages:
            assert len(items) == 10 and not following.get_attribute("disabled")
            following.click()
    assert following.get_attribute("disabled") and len(items) == PAGING_DOCS % 10
    assert len(seen) == PAGING_DOCS == len(set(seen))
    assert set(seen) == {f"cup-{i:03d}" for i in range(PAGING_DOCS)}


def test_the_page_works_under_its_content_security_policy(browser, server):
    """Every response carries the policy; the page (no inline script) breaks none of it."""
    import urllib.request

    with urllib.request.urlopen(server + "/") as response:
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    browser.get_log("browser")  # clear
    results = _search(browser, server, "咖啡从哪里来")
    assert results and results[0].find_elements("tag name", "mark")
    reports = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in reports if "Content Security Policy" in m or "Content-Security-Policy" in m], reports
