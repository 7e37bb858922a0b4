"""The judging page in headless Chromium (Debian's chromium + chromedriver, driven by Selenium): two
assessors at once judge Thai, Arabic and Chinese pairs from the keyboard, undo, reload and go on;
Arabic renders right to left, the query's terms are marked, the two never hold one single-judged
pair at once, and the exported qrels are exactly the judgments made. A screenshot of an Arabic pair
goes to test-artifacts/judge-rtl.png (docs/img/judge-rtl.png is made by docs/judge_screenshot.py,
over the demo project: a test run leaves the tracked files alone).

Under BABELIR_REQUIRE_BROWSER=1 (set by ``make test``) a missing browser fails instead of skipping.
"""

from __future__ import annotations


import pytest

pytest.importorskip("fastapi")
pytest.importorskip("selenium")

from tests.integration.test_browser import ARTIFACTS, _browser_paths  # noqa: E402
from tests.conftest import served_in_thread  # noqa: E402
from tests.integration.test_judge_api import SECRETS, build_project  # noqa: E402

@pytest.fixture()
def served(tmp_path):
    from babelir.judge.app import create_judge_app

    project = build_project(tmp_path, overlap=0.0)
    with served_in_thread(create_judge_app(project)) as url:
        yield url, project


def _chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800",
                 "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    return driver


def _login(driver, url: str, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url + "/")
    _wait(driver, lambda d: d.find_element(By.ID, "login").is_displayed())
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "secret").send_keys(SECRETS[name], Keys.ENTER)
    _wait(driver, lambda d: _current(d) is not None or _done(d))


def _wait(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _current(driver) -> tuple[str, str, str] | None:
    """(pair id, query id, doc id) shown, or None."""
    from selenium.webdriver.common.by import By

    passage = driver.find_element(By.ID, "passage")
    pair_id = passage.get_attribute("data-pair-id")
    if not pair_id or not passage.is_displayed():
        return None
    return pair_id, passage.get_attribute("data-query-id"), passage.get_attribute("data-doc-id")


def _done(driver) -> bool:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "done").is_displayed()


def _press(driver, key: str) -> tuple[str, str, str] | None:
    """Press ``key`` on the page and wait for the next pair (or the end)."""
    from selenium.webdriver.common.by import By

    before = _current(driver)
    driver.find_element(By.TAG_NAME, "body").send_keys(key)
    _wait(driver, lambda d: _current(d) != before or _done(d))
    return _current(driver)


def _direction(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    element = driver.find_element(By.ID, element_id)
    return driver.execute_script("return getComputedStyle(arguments[0]).direction", element)


def test_two_assessors_judge_by_keyboard(served):
    from selenium.webdriver.common.by import By

    from babelir.judge.export import project_qrels
    from babelir.judge.project import Project

    url, project_dir = served
    drivers = {}
    try:
        for name in ("somchai", "layla"):
            drivers[name] = _chrome()
            _login(drivers[name], url, name)
        expected: dict[tuple[str, str], int] = {}   # (query, doc) -> grade, as the qrels must hold it
        last: dict[str, tuple[tuple[str, str], int | None]] = {}
        grades = {"somchai": iter("2013201320"), "layla": iter("3102310231")}
        checked_rtl = marked = undone = reloaded = False
        steps = 0
        while not all(_done(d) for d in drivers.values()):
            steps += 1
            assert steps < 40, "the judging did not end"
            shown = {name: _current(d) for name, d in drivers.items()}
            ids = [s[0] for s in shown.values() if s is not None]
            assert len(ids) == len(set(ids)), f"two sessions show one single-judged pair at once: {shown}"
            for name, driver in drivers.items():
                current = shown[name]
                if current is None:
                    continue
                _, qid, docno = current
                lang = driver.find_element(By.ID, "passage").get_attribute("lang")
                if lang == "ar" and not checked_rtl:
                    assert _direction(driver, "passage") == "rtl" and _direction(driver, "query") == "rtl"
                    assert driver.find_element(By.ID, "query").get_attribute("lang") == "ar"
                    ARTIFACTS.mkdir(exist_ok=True)
                    assert driver.save_screenshot(str(ARTIFACTS / "judge-rtl.png"))
                    checked_rtl = True
                elif lang in ("th", "zh"):
                    assert _direction(driver, "passage") == "ltr"
                marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#passage mark")]
                query = driver.find_element(By.ID, "query").text
                if marks:
                    assert all(m and m in query for m in marks), (marks, query)
                    marked = True
                grade = int(next(grades[name]))
                expected[qid, docno] = grade
                last[name] = ((qid, docno), grade)
                _press(driver, str(grade))
                if name == "somchai" and not undone and len(expected) >= 3:
                    (key, _) = last[name]
                    back = _press(driver, "u")  # undo: the same pair comes back, and is no longer judged
                    assert back is not None and (back[1], back[2]) == key
                    del expected[key]
                    undone = True
                    driver.refresh()  # a reload continues with the leased pair
                    _wait(driver, lambda d: _current(d) is not None)
                    assert _current(driver) == back
                    reloaded = True
        assert checked_rtl and marked and undone and reloaded
        for driver in drivers.values():
            assert "nothing left to judge" in driver.find_element(By.ID, "done").text.lower()
            rows = driver.find_elements(By.CSS_SELECTOR, "#progress tbody tr")
            assert {r.find_element(By.TAG_NAME, "td").text for r in rows} == {"th", "ar", "zh"}
        with Project.open(project_dir) as project:
            qrels = {(q.query_id, q.doc_id, q.relevance) for q in project_qrels(project)}
        assert qrels == {(q, d, g) for (q, d), g in expected.items()} and len(qrels) == 9
        body_text = drivers["layla"].find_element(By.TAG_NAME, "body").text
        assert "g guidelines" in body_text
    finally:
        for driver in drivers.values():
            driver.quit()


def test_a_stale_tab_of_the_same_assessor_is_told_and_moves_on(served):
    """Two tabs of one assessor show the same leased pair; judged in one, the other's key is refused
    (409), the page says so and shows the next pair; a grade key while the keys panel is open only
    closes it."""
    from selenium.webdriver.common.by import By

    from babelir.judge.project import Project

    url, project_dir = served
    tabs = [_chrome(), _chrome()]
    try:
        for tab in tabs:
            _login(tab, url, "layla")
        first = _current(tabs[0])
        assert first is not None and _current(tabs[1]) == first
        tabs[1].find_element(By.TAG_NAME, "body").send_keys("?")
        tabs[1].find_element(By.TAG_NAME, "body").send_keys("2")  # closes the panel, judges nothing
        assert tabs[1].find_element(By.ID, "help").get_attribute("hidden") is not None
        assert _current(tabs[1]) == first
        _press(tabs[0], "3")
        moved = _press(tabs[1], "1")
        assert moved is not None and moved != first
        status = tabs[1].find_element(By.ID, "status").text
        assert "judged pair" in status and "not recorded" in status
        with Project.open(project_dir) as project:
            grades = [row[5] for row in project.live_judgments() if row[4] == "layla"]
        assert grades == [3]
    finally:
        for tab in tabs:
            tab.quit()
