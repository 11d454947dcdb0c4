"""A person's path through the page, in headless Chromium: upload a clip, analyse, read the score and
the charts, visit every tab; one screenshot per tab goes to a folder the test prints (MSA_SCREENSHOTS
sets it): 1-live, 2-compare, 3-errors (after a run: metrics, charts, table), 4-models,
5-live-from-error-table (the worst error opened in the Live panels; the app server's feature cache
is built by the tests, tests/cache_factory.py); then 6-compare-text-only (typed text, no clip: "—"
for audio and face).

Needs Debian's chromium + chromedriver (`apt-get install -y chromium chromium-driver`) and the
`selenium` package; nothing downloads a browser. Skips with the reason when either is absent, except
under CI=true (as `.ci/run` sets it), where a missing browser fails the run: CI must not pass by
silently leaving the page untested.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import MOSI_CLIPS

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CLIP = MOSI_CLIPS / "0h-zjBukYpk_24.mp4"  # "I mean that was impressive", labelled +2.6

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing() -> str | None:
    if not CHROMIUM.is_file() or not CHROMEDRIVER.is_file():
        return "needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install -y chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs the selenium package (pip install selenium)"
    return None


if _missing():
    if IN_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {_missing()}", pytrace=False)
    pytest.skip(_missing(), allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CLIP.is_file(), reason=f"{CLIP} is absent")]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCORE = re.compile(r"[+-]\d\.\d\d")


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--mute-audio"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("MSA_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def _wait(driver, condition, timeout=90.0, what="the page"):
    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(
        lambda d: condition(d), message=f"timed out waiting for {what}")


def _screenshot(driver, path: Path) -> None:
    """The whole page, not just the window: Chrome renders a viewport as tall as the content (the
    charts re-lay themselves out at the new size, so the height is measured until it settles)."""
    height = 0
    for _ in range(4):
        content = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        new = min(max(int(content) + 1, 1000), 8000)
        if new == height:
            break
        height = new
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1400, "height": height, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print(f"{path.name}: {height} px")


def _open_tab(driver, name: str) -> None:
    tab = _wait(driver, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "button[role=tab]")
                                        if b.text.strip() == name and b.is_displayed()), None),
                what=f"the {name} tab")
    tab.click()


def _plots(driver, elem_id: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} .js-plotly-plot"))


def _first_cell(d):
    """The first cell of the error table (Gradio's virtual table), i.e. the largest error."""
    return next((c for c in d.find_elements(By.CSS_SELECTOR, "#errors-table [role=gridcell]")
                 if c.is_displayed() and c.text.strip()), None)


def _run_error_analysis(d) -> None:
    """Run the error analysis on the default split; wait for its metrics, both charts and the table."""
    run = next(b for b in d.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "Run" and b.is_displayed())
    run.click()
    _wait(d, _first_cell, timeout=120, what="the error table")
    _wait(d, lambda d: _plots(d, "errors-scatter") and _plots(d, "errors-confusion"), what="the error charts")
    assert "MAE" in d.find_element(By.ID, "errors-metrics").text


def test_upload_analyse_and_visit_every_tab(app_server, browser, shots):
    d = browser
    d.get(app_server)
    _wait(d, lambda d: d.find_elements(By.ID, "analyse"), what="the Analyse button")

    # upload: switch the video input from webcam to file upload, then give it the clip
    d.find_element(By.CSS_SELECTOR, "#video button[aria-label='Upload file']").click()
    upload = _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#video input[type=file]"), what="the file input")
    upload[0].send_keys(str(CLIP))
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#video video[src]"), what="the uploaded clip")
    time.sleep(1.0)  # the upload event clears the transcript; type after it
    d.find_element(By.CSS_SELECTOR, "#transcript textarea").send_keys("i mean that was impressive")
    d.find_element(By.ID, "analyse").click()

    score = _wait(d, lambda d: SCORE.search(d.find_element(By.ID, "score").text), timeout=120,
                  what="the score")
    assert score
    for chart in ("contributions", "routing", "subsets", "timeline"):
        _wait(d, lambda d: _plots(d, chart), what=f"the {chart} chart")
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#keyframe img"), what="the keyframe")
    assert "contribution" in d.find_element(By.ID, "modality-table").text
    # robustness: switching the face off re-scores from the cached features
    visual = next(label for label in d.find_elements(By.CSS_SELECTOR, "#modalities label")
                  if label.text.strip() == "visual")
    visual.click()
    _wait(d, lambda d: "text + audio on" in d.find_element(By.ID, "robustness").text, what="the re-scoring")
    _screenshot(d, shots / "1-live.png")

    _open_tab(d, "Compare")
    _wait(d, lambda d: "mmmie" in d.find_element(By.ID, "compare-table").text, what="the comparison table")
    _wait(d, lambda d: _plots(d, "compare-contributions") and _plots(d, "compare-routing"),
          what="the comparison charts")
    _screenshot(d, shots / "2-compare.png")

    _open_tab(d, "Error analysis")  # on the cache conftest's app_server builds (12 typed sentences)
    _run_error_analysis(d)
    metrics = d.find_element(By.ID, "errors-metrics").text  # a row "mosi · test | n | …" for the 12 items
    assert "mosi · test" in metrics and re.search(r"\b12\b", metrics), metrics
    _screenshot(d, shots / "3-errors.png")
    _wait(d, _first_cell, what="the error table after the screenshot").click()
    _wait(d, lambda d: "cached sample" in d.find_element(By.ID, "score").text, what="the opened sample")
    _wait(d, lambda d: _plots(d, "subsets"), what="the sample's charts")
    _screenshot(d, shots / "5-live-from-error-table.png")

    _open_tab(d, "Models")
    _wait(d, lambda d: "mmmie" in d.find_element(By.ID, "models-overview").text, what="the models table")
    _screenshot(d, shots / "4-models.png")
    expected = ["1-live.png", "2-compare.png", "3-errors.png", "4-models.png", "5-live-from-error-table.png"]
    assert set(expected) <= {p.name for p in shots.glob("*.png")}


def test_typed_text_only_compare_says_dash_for_audio_and_face(app_server, browser, shots):
    """No clip, only typed text: the Compare table shows "—" (not 0.000) for audio and visual."""
    d = browser
    d.get(app_server)
    _wait(d, lambda d: d.find_elements(By.ID, "analyse"), what="the Analyse button")
    d.find_element(By.CSS_SELECTOR, "#transcript textarea").send_keys("what a wonderful film, i loved it")
    d.find_element(By.ID, "analyse").click()
    _wait(d, lambda d: SCORE.search(d.find_element(By.ID, "score").text), timeout=120, what="the score")
    _open_tab(d, "Compare")
    _wait(d, lambda d: "mmmie" in d.find_element(By.ID, "compare-table").text, what="the comparison table")
    _wait(d, lambda d: _plots(d, "compare-contributions"), what="the comparison chart")
    table = d.find_element(By.ID, "compare-table").text
    assert table.count("—") >= 2 * 6, table  # audio and visual, six models
    assert "not in this input" in d.find_element(By.ID, "compare-contributions").text
    _screenshot(d, shots / "6-compare-text-only.png")
