"""Generated reports opened in a real headless Chromium (Debian's package, driven by Selenium).

Checks that a person would: the page loads with no console error and makes no request outside the
file itself, every plot is on screen with a non-zero size, and a class named
``<script>alert(1)</script>`` shows as text (no dialog, no script element, visible in tables and plots).

Set up with ``bash .ci/browser-setup.sh``. Without ``/usr/bin/chromium`` the test is skipped locally,
but under ``CI=true`` it fails: CI must run it.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _report_samples import HOSTILE, full_results

from transferkit.reports.run import SCHEMA, write_results

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1280,900")


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return f"{CHROMIUM} or {CHROMEDRIVER} is missing (run: bash .ci/browser-setup.sh)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is missing (run: bash .ci/browser-setup.sh)"
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    why = _missing()
    if why:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser test must run under CI: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tk-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for f in (*FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _variants() -> dict[str, tuple[dict[str, Any], int]]:
    """Results to open, with the number of plots each must show."""
    full = full_results()
    only_cmp = {"schema": SCHEMA, "command": "fit", "argv": ["transferkit", "fit", HOSTILE],
                "sections": {"comparison": copy.deepcopy(full["sections"]["comparison"])}}
    rank = {"schema": SCHEMA, "command": "rank",
            "sections": {"ranking": copy.deepcopy(full["sections"]["ranking"]),
                         "similarity": copy.deepcopy(full["sections"]["similarity"])}}
    empty = {"schema": SCHEMA, "command": "demo", "sections": {}}
    return {"full": (full, 9), "comparison": (only_cmp, 1), "rank": (rank, 4), "empty": (empty, 0)}


def _open(driver: Any, page: Path) -> None:
    driver.get_log("browser")  # drop anything logged before this page
    driver.get_log("performance")
    driver.get(page.resolve().as_uri())


@pytest.mark.parametrize("name", list(_variants()))
def test_report_in_chromium(driver: Any, tmp_path: Path, name: str) -> None:
    import json

    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    results, n_plots = _variants()[name]
    write_results(tmp_path, results)
    _open(driver, tmp_path / "report.html")

    # a script would have raised a dialog; none is open and the page has no script element at all
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    assert driver.execute_script("return document.scripts.length") == 0
    assert driver.title.startswith("transferkit")

    errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, f"console errors: {errors}"
    requested = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            requested.append(msg["params"]["request"]["url"])
    outside = [u for u in requested if not u.startswith(("file:", "data:"))]
    assert not outside, f"the report made network requests: {outside}"

    plots = driver.find_elements(By.CSS_SELECTOR, "figure.plot svg, figure.plot img")
    assert len(plots) == n_plots
    for p in plots:
        driver.execute_script("arguments[0].scrollIntoView()", p)
        js = "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]"
        box = driver.execute_script(js, p)
        assert p.is_displayed() and box[0] > 50 and box[1] > 50, f"plot not visible: {box}"

    if name in ("full", "comparison"):
        where = driver.find_element(By.TAG_NAME, "body").text
        assert HOSTILE in where, "the hostile class name is not shown as text"
    if name == "full":
        cells = driver.find_elements(By.XPATH, f"//td[normalize-space(.)='{HOSTILE}']")
        assert cells and all(c.is_displayed() for c in cells)
        svg_text = driver.find_elements(By.XPATH, f"//*[local-name()='text'][contains(., '{HOSTILE[:20]}')]")
        assert svg_text, "the hostile class name is missing from the plots"
        boxes = driver.find_elements(By.CSS_SELECTOR, ".verdict-positive")
        verdict = next(b for b in boxes if "Transfer helped" in b.text)
        assert verdict.is_displayed() and "Transfer helped: +4.0 points accuracy" in verdict.text
        assert boxes[0].is_displayed() and boxes[0].text.startswith("This run ships the transfer model")


def test_make_screenshots_script(driver: Any, tmp_path: Path) -> None:
    """docs/make_screenshots.py rebuilds the page and saves a PNG of the first screen."""
    import importlib.util

    from PIL import Image

    script = Path(__file__).resolve().parents[1] / "docs" / "make_screenshots.py"
    spec = importlib.util.spec_from_file_location("make_screenshots", script)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    run = tmp_path / "run"
    write_results(run, full_results())
    (run / "report.html").unlink()
    assert mod.main([str(run), "--names", "shot", "--out", str(tmp_path / "docs"), "--width", "1000",
                     "--height", "800"]) == 0
    assert (run / "report.html").exists()
    with Image.open(tmp_path / "docs" / "shot.png") as im:
        assert im.size == (1000, 800)
        colours = im.convert("RGB").resize((50, 40)).getcolors(4000)
    assert colours is not None and len(colours) > 20, "the screenshot looks blank"
