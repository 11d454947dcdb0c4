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
import time
from pathlib import Path

import pytest

from browser_env import CHROMEDRIVER, CHROMIUM, require_browser
from conftest import MOSI_CLIPS

CLIP = MOSI_CLIPS / "0h-zjBukYpk_24.mp4"  # "I mean that was impressive", labelled +2.6



require_browser()

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


def _element_shot(driver, elem_id: str, path: Path) -> None:
    """One panel alone (the README's pictures of it)."""
    element = driver.find_element(By.ID, elem_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.5)
    element.screenshot(str(path))
    print(f"{path.name}: {element.size['width']}x{element.size['height']} px")


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
    # sentiment over time and the shaded words come with the analysis
    _wait(d, lambda d: _plots(d, "over-time"), what="the over-time chart")
    words = d.find_elements(By.CSS_SELECTOR, "#word-attributions .msa-word")
    assert len(words) == 5  # i mean that was impressive
    # perturbation: the default kind (white noise at 30 … 0 dB) re-reads the voice at each SNR
    d.find_element(By.ID, "perturb-run").click()
    _wait(d, lambda d: _plots(d, "perturbation"), timeout=240, what="the perturbation chart")
    assert "SNR (dB)" in d.find_element(By.ID, "perturb-note").text
    _element_shot(d, "perturbation", shots / "panel-perturbation.png")
    _screenshot(d, shots / "1-live.png")

    _open_tab(d, "Compare")
    _wait(d, lambda d: "mmmie" in d.find_element(By.ID, "compare-table").text, what="the comparison table")
    _wait(d, lambda d: _plots(d, "compare-contributions") and _plots(d, "compare-routing"),
          what="the comparison charts")
    d.find_element(By.ID, "compare-perturb").click()  # every model on the perturbation just run
    _wait(d, lambda d: _plots(d, "compare-perturbation"), what="the models-under-perturbation chart")
    assert "Every model on the same degraded inputs" in d.find_element(By.ID, "compare-perturb-note").text
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


# --- the webcam and the microphone ------------------------------------------------------------------
WEBCAM_CLIP = MOSI_CLIPS / "0h-zjBukYpk_1.mp4"  # "Now the title of the movie basically says it all."


def _fake_devices(folder: Path) -> tuple[Path, Path]:
    """The clip as Chromium's fake camera (a .y4m of its frames, 10 fps) and fake microphone (a 48 kHz
    16-bit WAV of its sound), looped by Chromium while the page records."""
    import wave

    import cv2
    import numpy as np
    from scipy import signal

    from msa_demo.media import load_media

    clip = load_media(WEBCAM_CLIP, fps=10.0)
    h, w = (s - s % 2 for s in clip.frames.shape[1:3])
    y4m = folder / "camera.y4m"
    with open(y4m, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for frame in clip.frames:
            yuv = cv2.cvtColor(np.ascontiguousarray(frame[:h, :w]), cv2.COLOR_RGB2YUV_I420)
            fh.write(b"FRAME\n" + yuv.tobytes())
    voice = np.clip(signal.resample_poly(clip.audio, 3, 1), -1, 1)
    wav = folder / "microphone.wav"
    with wave.open(str(wav), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(48_000)
        fh.writeframes((voice * 32767).astype("<i2").tobytes())
    return y4m, wav


@pytest.fixture(scope="module")
def webcam_browser(tmp_path_factory):
    camera, microphone = _fake_devices(tmp_path_factory.mktemp("fake-devices"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--mute-audio",
                f"--use-file-for-fake-video-capture={camera}",
                f"--use-file-for-fake-audio-capture={microphone}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _capture_button(d):
    buttons = d.find_elements(By.CSS_SELECTOR, "#video button.capture-button")
    return next((b for b in buttons if b.is_displayed()), None)


@pytest.mark.skipif(not WEBCAM_CLIP.is_file(), reason=f"{WEBCAM_CLIP} is absent")
def test_record_with_webcam_and_microphone(app_server, webcam_browser, shots):
    """Record a few seconds from the (fake) webcam and microphone in the Live tab, analyse: Whisper
    transcribes the recording and the face is found (the keyframe panel holds an image)."""
    d = webcam_browser
    d.get(app_server)
    _wait(d, lambda d: d.find_elements(By.ID, "analyse"), what="the Analyse button")
    for button in d.find_elements(By.CSS_SELECTOR, "#video button"):  # "access the webcam", if asked
        if "access" in button.text.lower() and button.is_displayed():
            button.click()
    _wait(d, _capture_button, what="the webcam's record button").click()
    time.sleep(5.0)
    _wait(d, _capture_button, what="the webcam's stop button").click()
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#video video[src]"), timeout=60,
          what="the recording")
    time.sleep(1.5)  # the recording's upload clears the transcript; analyse after it
    d.find_element(By.ID, "analyse").click()
    _wait(d, lambda d: SCORE.search(d.find_element(By.ID, "score").text), timeout=180, what="the score")
    box = "#transcript textarea"
    transcript = _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, box).get_attribute("value"),
                       what="Whisper's transcript")
    assert len(transcript.split()) >= 2, transcript
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#keyframe img"), what="the keyframe (a face)")
    notices = d.find_element(By.ID, "notices").text
    assert "no face" not in notices and "all three modalities" in notices, notices
    _wait(d, lambda d: _plots(d, "over-time"), what="the over-time chart")  # Whisper's words, timed
    _element_shot(d, "over-time", shots / "panel-over-time.png")
    _screenshot(d, shots / "7-live-webcam.png")
