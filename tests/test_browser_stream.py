"""The Stream tab in headless Chromium, with its fake webcam and microphone playing a MOSI clip ("I
mean that was impressive", +2.6): the rolling score moves at least 3 times while it plays, and the
final analysis after stop has the polarity the upload path (`/analyze`, same server, same clip)
gives; then the Live tab's (non-streaming) webcam recording still works in the same page.

The clip is turned into the fake devices' files by the test with PyAV (a .y4m of its frames, a 48 kHz
WAV of its sound, each padded to 2 s; Chromium loops them). Needs Debian's chromium + chromedriver
and selenium, like tests/test_browser.py: skips with the reason when absent, fails under CI=true.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from browser_env import CHROMEDRIVER, CHROMIUM, require_browser
from conftest import MOSI_CLIPS

CLIP = MOSI_CLIPS / "0h-zjBukYpk_24.mp4"  # "I mean that was impressive", labelled +2.6
LOOP_SECONDS = 2.0  # the fake devices play the clip padded to this, over and over
STREAM_SECONDS = 90.0  # at most this long to see 3 rolling updates (Whisper on 2 cores shared with others)
FINAL_SECONDS = 300.0  # for the final analysis (Whisper on all of it, the detail panels)
HEADLESS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1400,1000", "--mute-audio",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


require_browser()

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CLIP.is_file(), reason=f"{CLIP} is absent")]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCORE = re.compile(r"([+-]\d\.\d\d)\s*(positive|negative|neutral)")
UPDATE = re.compile(r"update (\d+)")


def fake_devices(folder: Path, clip_path: Path = CLIP) -> tuple[Path, Path]:
    """The clip as Chromium's fake camera (.y4m, 10 fps, its last frame held) and fake microphone
    (16-bit 48 kHz mono WAV, silence after the speech), both LOOP_SECONDS long."""
    import av
    import numpy as np
    import soxr

    from msa_demo.media import load_media

    clip = load_media(clip_path, fps=10.0)
    frames = clip.frames[np.minimum(np.arange(int(LOOP_SECONDS * 10)), len(clip.frames) - 1)]
    h, w = (s - s % 2 for s in frames.shape[1:3])
    camera = folder / "camera.y4m"
    with av.open(str(camera), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=10)
        stream.pix_fmt, stream.width, stream.height = "yuv420p", w, h
        for picture in frames:
            picture = np.ascontiguousarray(picture[:h, :w])
            out.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        out.mux(stream.encode())
    sound = np.zeros(int(LOOP_SECONDS * 48_000), np.float32)
    voice = soxr.resample(clip.audio, 16_000, 48_000)[: len(sound)]
    sound[: len(voice)] = voice
    microphone = folder / "microphone.wav"
    with av.open(str(microphone), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=48_000, layout="mono")
        pcm = (np.clip(sound, -1, 1) * 32767).astype("<i2")[None]
        samples = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        samples.sample_rate = 48_000
        out.mux(stream.encode(samples))
        out.mux(stream.encode())
    return camera, microphone


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    camera, microphone = fake_devices(tmp_path_factory.mktemp("fake-devices"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in HEADLESS + (f"--use-file-for-fake-video-capture={camera}",
                           f"--use-file-for-fake-audio-capture={microphone}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout=90.0, what="the page"):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: condition(d), message=f"timed out waiting for {what}")


def _button(d, scope: str, text: str | None = None, css: str = "button"):
    """A displayed button inside `scope` (a CSS selector), by its text."""
    for button in d.find_elements(By.CSS_SELECTOR, f"{scope} {css}"):
        if button.is_displayed() and (text is None or button.text.strip() == text):
            return button
    return None


def _open_tab(d, name: str) -> None:
    _wait(d, lambda d: _button(d, "", name, "button[role=tab]"), what=f"the {name} tab").click()


def _text(d, elem_id: str) -> str:
    return d.find_element(By.ID, elem_id).text


def _plots(d, elem_id: str) -> int:
    return len(d.find_elements(By.CSS_SELECTOR, f"#{elem_id} .js-plotly-plot"))


@pytest.fixture(scope="module")
def streamed(app_server, browser) -> dict:
    """Stream the fake devices on the Stream tab until 3 rolling updates have been shown (at least 6 s,
    at most STREAM_SECONDS), then stop; what the page showed on the way and at the end."""
    d = browser
    d.get(app_server)
    _open_tab(d, "Stream")
    _wait(d, lambda d: _button(d, "#stream-camera", "Click to Access Webcam"), what="the webcam").click()
    _wait(d, lambda d: _button(d, "#stream-camera", "Record", "button.capture-button"),
          what="the webcam's stream button").click()
    _wait(d, lambda d: _button(d, "#stream-camera", "Stop", "button.capture-button"), what="the webcam streaming")
    _wait(d, lambda d: _button(d, "#stream-mic", "Record"), what="the microphone").click()
    _wait(d, lambda d: _button(d, "#stream-mic", "Stop"), what="the microphone recording")
    shown: dict[int, dict] = {}
    started = time.monotonic()
    while time.monotonic() - started < STREAM_SECONDS and (len(shown) < 3 or time.monotonic() - started < 6):
        found = UPDATE.search(_text(d, "stream-status"))
        if found and int(found.group(1)) not in shown:
            shown[int(found.group(1))] = {"score": _text(d, "stream-score"),
                                          "transcript": _text(d, "stream-transcript"),
                                          "at": time.monotonic() - started}
        time.sleep(0.1)
    both = lambda d: _plots(d, "stream-contributions") + _plots(d, "stream-over-time") == 2  # noqa: E731
    rolling_plots = bool(shown) and bool(_wait(d, both, timeout=30, what="the rolling charts"))
    _wait(d, lambda d: _button(d, "#stream-mic", "Stop"), what="the microphone's stop button").click()
    stopped = time.monotonic()
    print(f"\nstreamed {stopped - started:.1f} s: updates shown at "
          + ", ".join(f"{seen['at']:.1f}" for seen in shown.values()) + " s")
    _wait(d, lambda d: "final analysis" in _text(d, "stream-status"), timeout=FINAL_SECONDS,
          what=f"the final analysis (the page: {_text(d, 'stream-status')!r})")
    print(f"final analysis {time.monotonic() - stopped:.1f} s after stop: {_text(d, 'stream-status')}")
    return {"updates": shown, "rolling_plots": rolling_plots,
            "score": _text(d, "stream-score"), "status": _text(d, "stream-status"),
            "transcript": _text(d, "stream-transcript"), "words": _text(d, "stream-final-words"),
            "untrained": bool(d.find_elements(By.CSS_SELECTOR, "#stream-score .msa-warn")),
            "plots": _plots(d, "stream-contributions") + _plots(d, "stream-over-time")}


def test_the_rolling_score_moves_while_the_clip_plays(streamed):
    updates = streamed["updates"]
    assert len(updates) >= 3, streamed
    for index, seen in updates.items():
        assert SCORE.search(seen["score"]) and "rolling" in seen["score"], (index, seen)
    assert streamed["rolling_plots"]  # the contributions and the line over time, while streaming
    times = sorted(seen["at"] for seen in updates.values())
    assert times[-1] - times[0] > 1.0  # shown one after another while speaking, not all at the end
    heard = " ".join(seen["transcript"].lower() for seen in updates.values())
    assert re.search(r"impress|that was", heard), updates


def test_stop_shows_the_analysis_of_the_whole_recording(streamed):
    assert SCORE.search(streamed["score"]) and "whole recording" in streamed["score"], streamed
    assert streamed["plots"] == 2
    assert "impressive" in streamed["words"].lower(), streamed["words"]  # Whisper on all of it
    assert "impressive" in streamed["transcript"].lower()  # the streamed transcript, all committed now


def test_the_final_polarity_is_the_upload_paths(streamed, app_server):
    """The same clip uploaded to `/analyze` on the same server: the same polarity (meaningful only with
    trained weights: with random ones a recording a few loops long and the clip may differ)."""
    from gradio_client import Client, handle_file

    model = re.search(r"(\w+) · scale", streamed["score"]).group(1)
    upload = Client(app_server, verbose=False).predict(handle_file(str(CLIP)), "", model, api_name="/analyze")
    if streamed["untrained"] or not upload["trained"]:
        pytest.skip(f"{model} is untrained here (random weights): polarity not compared "
                    f"(stream {streamed['score'].split()[0]}, upload {upload['score']:+.2f})")
    final = SCORE.search(streamed["score"])
    assert final.group(2) == upload["polarity"], (streamed["score"], upload["score"], upload["polarity"])


def test_the_live_tabs_webcam_recording_works_after_streaming(streamed, browser):
    """The Live tab's gr.Video webcam (record, stop, Analyse), in the page that has just streamed from
    the same camera and microphone: Whisper's transcript of the recording and a face."""
    d = browser
    _open_tab(d, "Live")
    for button in d.find_elements(By.CSS_SELECTOR, "#video button"):  # "access the webcam", if asked
        if "access" in button.text.lower() and button.is_displayed():
            button.click()
    capture = "button.capture-button"
    _wait(d, lambda d: _button(d, "#video", None, capture), what="the webcam's record button").click()
    time.sleep(2 * LOOP_SECONDS + 0.5)
    _wait(d, lambda d: _button(d, "#video", None, capture), what="the webcam's stop button").click()
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#video video[src]"), timeout=60,
          what="the recording")
    time.sleep(1.5)  # the recording's upload clears the transcript; analyse after it
    d.find_element(By.ID, "analyse").click()
    _wait(d, lambda d: SCORE.search(_text(d, "score")), timeout=180, what="the score")
    box = "#transcript textarea"
    transcript = _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, box).get_attribute("value"),
                       what="Whisper's transcript")
    assert "impressive" in transcript.lower(), transcript
    _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#keyframe img"), what="the keyframe (a face)")
    assert "no face" not in _text(d, "notices")
