"""Make docs/img/judge-rtl.png: the judging page over the demo project (``babelir judge demo``), an
Arabic pair, in headless Chromium.

    python docs/judge_screenshot.py [--quickstart babelir-quickstart]

On a copy of the demo project, an assessor ``screenshot`` (Arabic only) skips pairs until one with an
Arabic query, judges it 2 (so that the progress tables show something), skips on to the next Arabic
query's pair and photographs it. The demo project itself is left as it was.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import threading
import time
from pathlib import Path

SECRET = "screenshot-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quickstart", default="babelir-quickstart")
    parser.add_argument("-o", "--output", default=str(Path(__file__).parent / "img" / "judge-rtl.png"))
    args = parser.parse_args()

    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    from babelir.judge.app import create_judge_app
    from babelir.judge.demo import judge_demo
    from babelir.judge.project import Project

    import tempfile

    demo = judge_demo(args.quickstart, echo=lambda line: None, quiet=True)
    project = Path(tempfile.mkdtemp()) / "judging"
    shutil.copytree(demo, project)
    with Project.open(project) as p:
        p.add_assessor("screenshot", ["ar"], SECRET)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_judge_app(project), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,640"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        wait = WebDriverWait(driver, 30)
        driver.get(f"http://127.0.0.1:{port}/")
        wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
        driver.find_element(By.ID, "name").send_keys("screenshot")
        driver.find_element(By.ID, "secret").send_keys(SECRET, Keys.ENTER)

        def press_until_arabic_query(key: str) -> None:
            while True:
                wait.until(lambda d: d.find_element(By.ID, "passage").get_attribute("data-pair-id"))
                shown = driver.find_element(By.ID, "passage").get_attribute("data-pair-id")
                driver.find_element(By.TAG_NAME, "body").send_keys(key)
                wait.until(lambda d: d.find_element(By.ID, "passage").get_attribute("data-pair-id") != shown)
                if driver.find_element(By.ID, "query").get_attribute("lang") == "ar":
                    return
                key = "s"

        press_until_arabic_query("s")
        press_until_arabic_query("2")
        time.sleep(2.5)  # the progress tables refresh
        driver.refresh()
        wait.until(lambda d: d.find_element(By.ID, "passage").get_attribute("data-pair-id"))
        time.sleep(0.5)
        driver.save_screenshot(args.output)
    finally:
        driver.quit()
        server.should_exit = True
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
