"""Bad and odd inputs through the whole analysis (media -> features -> model -> explanation JSON), the
way `/analyze`, the CLI and the Live tab run it: each is either refused with a one-line message a
visitor understands (a `MediaError`, never a traceback, never a server path), or analysed as far as
it can be with a notice saying what is off. Then a handful through a live server (it keeps
answering), the upload limit, and requests that try to reach files outside the upload area.

Every input is made here (tests/media_factory.py), tiny: the 10-minute video is 32x32 px at 1 fps
with a silent track, so the whole module takes seconds, not minutes.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import MOSI_CLIPS, needs_face_model, needs_shared
from media_factory import noise_frames, tone, write_video
from msa_demo.errors import (CorruptMediaError, EmptyFileError, MediaError, TooLargeError,
                             UnsupportedMediaError)
from msa_demo.media import load_media
from msa_demo.session import analyze_input

pytestmark = pytest.mark.usefixtures("one_thread")

MODEL = "late_fusion"  # the cheapest model; every model takes the same features


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> dict[str, Path]:
    """The inputs conftest's `generated` does not have."""
    d = tmp_path_factory.mktemp("odd")
    good = write_video(d / "good.mp4", noise_frames(30), audio=tone(2.0))
    data = good.read_bytes()
    files = {
        # the moov atom is at the end: half a file has no index at all
        "truncated": d / "truncated.mp4",
        # the middle quarter overwritten: the container opens, some packets do not decode
        "garbled": d / "garbled.mp4",
        "ten_minutes": write_video(d / "ten_minutes.mp4", noise_frames(600, 32, 32), fps=1,
                                   audio=np.zeros(600 * 16_000, np.float32)),
        "fps7": write_video(d / "fps7.mp4", noise_frames(14), fps=7, audio=tone(2.0)),
        "rotated": write_video(d / "rotated.mp4", noise_frames(10, 40, 80), fps=10, rotation=90,
                               audio=tone(1.0)),
        "wide": write_video(d / "wide.mp4", noise_frames(5, 40, 4000), fps=5, audio=tone(1.0)),
        "tiny": write_video(d / "tiny.mp4", noise_frames(10, 2, 2), fps=10, audio=tone(1.0)),
        # what Chrome's MediaRecorder writes: VP9 + 48 kHz Opus, no cues, no duration in the header
        "browser_webm": write_video(d / "recording.webm", noise_frames(30), audio=tone(2.0),
                                    vcodec="libvpx-vp9", acodec="libopus", options={"live": "1"}),
    }
    files["truncated"].write_bytes(data[: len(data) // 2])
    garbled = bytearray(data)
    n = len(garbled)
    garbled[n // 4: n // 2] = np.random.default_rng(1).integers(0, 256, n // 2 - n // 4, np.uint8).tobytes()
    files["garbled"].write_bytes(bytes(garbled))
    return files


@pytest.fixture()
def own_tmp(tmp_path, monkeypatch) -> Path:
    """A private temp folder for one analysis: whatever the pipeline writes there is left over."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def analyze(pipeline, zoo, path, text: str = "") -> dict:
    return analyze_input(pipeline, zoo, str(path), text, MODEL)


def _sane(result: dict) -> None:
    total = result["baseline"] + sum(result["contributions"].values())
    assert total == pytest.approx(result["score"], abs=1e-9)
    assert np.isfinite(result["score"])
    for m, available in result["available"].items():
        if not available:
            assert result["contributions"][m] == 0.0 and result["unimodal"][m] is None


def _has(result: dict, fragment: str) -> bool:
    return any(fragment in n for n in result["notices"])


# --- refused: nothing usable, one clear line ------------------------------------------------------
REFUSED = [
    ("empty", EmptyFileError, "is empty (0 bytes)"),
    ("text_as_mp4", CorruptMediaError, "notes.mp4 is not a readable video file"),
    ("unsupported", UnsupportedMediaError, "unsupported file type '.txt'"),
]


@pytest.mark.parametrize("name, error, message", REFUSED)
def test_unusable_files_are_refused_with_a_message(pipeline, zoo, generated, own_tmp, name, error, message):
    with pytest.raises(error, match=re.escape(message)) as info:
        analyze(pipeline, zoo, generated[name])
    assert str(generated[name].parent) not in str(info.value)  # no server path in what a visitor sees
    assert not list(own_tmp.iterdir())


def test_truncated_mp4_is_refused_without_the_server_path(pipeline, zoo, odd, own_tmp):
    with pytest.raises(CorruptMediaError, match="truncated.mp4 is not a readable video file "
                                                r"\(Invalid data found when processing input\)") as info:
        analyze(pipeline, zoo, odd["truncated"])
    assert str(odd["truncated"].parent) not in str(info.value)
    assert not list(own_tmp.iterdir())


def test_very_large_upload_is_refused_by_size_before_decoding(pipeline, zoo, tmp_path, own_tmp, monkeypatch):
    big = tmp_path / "huge.mp4"
    with open(big, "wb") as fh:  # sparse: 201 MB of zeros that take no disk and would not decode
        fh.truncate(201 * 2**20)
    decoded = []
    monkeypatch.setattr("av.open", lambda *a, **k: decoded.append(a) or 1 / 0)
    with pytest.raises(TooLargeError, match=r"huge.mp4 is 201 MB, over the 200 MB upload limit: trim or compress"):
        analyze(pipeline, zoo, big)
    assert not decoded  # refused from its size alone
    with pytest.raises(TooLargeError, match="over the 1 MB upload limit"):
        load_media(big, max_mb=1)


# --- partial results: what is usable is analysed, a notice says what is off -----------------------
def test_garbled_mp4_keeps_what_decodes(pipeline, zoo, odd, own_tmp):
    # a transcript is typed: what is kept of the audio is tested here, ASR in test_asr.py
    result = analyze(pipeline, zoo, odd["garbled"], "it was fine")
    _sane(result)
    assert _has(result, "damaged packet(s) skipped") or _has(result, "file is damaged")
    assert not list(own_tmp.iterdir())


def test_video_without_audio(pipeline, zoo, generated, own_tmp):
    result = analyze(pipeline, zoo, generated["no_audio"])
    _sane(result)
    assert _has(result, "no audio track: audio modality off")
    assert not result["available"]["audio"] and not result["available"]["text"]
    assert not list(own_tmp.iterdir())


def test_audio_without_video(pipeline, zoo, generated, own_tmp):
    result = analyze(pipeline, zoo, generated["tone"], "it was fine")
    _sane(result)
    assert result["available"] == {"text": True, "audio": True, "visual": False}
    assert not list(own_tmp.iterdir())


def test_pure_silence(pipeline, zoo, generated, own_tmp):
    result = analyze(pipeline, zoo, generated["silence"])
    _sane(result)
    assert _has(result, "no speech heard: text modality off")
    assert _has(result, "the audio is silent: audio modality off")
    assert not any(result["available"].values())
    assert result["score"] == result["baseline"]  # nothing to explain: the score is the baseline
    # typing a transcript still gives an answer from the text
    typed = analyze(pipeline, zoo, generated["silence"], "I loved every minute")
    assert typed["available"]["text"] and typed["transcript"] == "I loved every minute"


@needs_face_model
def test_no_face(pipeline, zoo, generated, own_tmp):
    result = analyze(pipeline, zoo, generated["noise_with_tone"], "so so")
    _sane(result)
    assert _has(result, "no face found: visual modality off") and not result["available"]["visual"]
    assert result["available"]["audio"] and result["available"]["text"]


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory) -> Path:
    """A MOSI speaker twice, side by side, the right one at 80 % (MediaPipe's detector misses the
    copy at 70 % in this layout): two faces in every frame, the larger on the left."""
    import cv2

    frames = load_media(MOSI_CLIPS / "0h-zjBukYpk_2.mp4", max_seconds=1.0).frames[:8]
    h, w = frames.shape[1:3]
    sh, sw = int(h * 0.8) // 2 * 2, int(w * 0.8) // 2 * 2
    canvas = np.zeros((len(frames), h, w + sw, 3), np.uint8)
    canvas[:, :, :w] = frames
    for i, frame in enumerate(frames):
        canvas[i, (h - sh) // 2: (h - sh) // 2 + sh, w:] = cv2.resize(frame, (sw, sh))
    return write_video(tmp_path_factory.mktemp("faces") / "two_faces.mp4", canvas, fps=10)


@needs_shared
@needs_face_model
def test_two_faces_read_the_larger_with_a_notice(pipeline, zoo, two_faces, own_tmp):
    from msa_demo.session import explain, extract_input

    extracted = extract_input(pipeline, str(two_faces), "we both liked it")
    result = explain(extracted, zoo, MODEL)
    _sane(result)
    assert result["available"]["visual"]
    assert _has(result, "more than one face in view: the largest face is read")
    width = extracted.keyframe.shape[1]
    assert extracted.landmarks[:, 0].mean() * width < width * 480 / (480 + 384)  # the left, larger one


def test_ten_minute_video_is_cut_at_60_s_and_stays_fast(pipeline, zoo, odd, own_tmp):
    start = time.perf_counter()
    clip = load_media(odd["ten_minutes"])
    decode = time.perf_counter() - start
    assert clip.source_duration == pytest.approx(600, abs=1)
    assert clip.duration <= 60 and len(clip.audio) <= 60 * 16_000 and len(clip.frames) == 60
    assert any("input is 600 s long: only the first 60 s are analysed" in n for n in clip.notices)
    assert decode < 5  # demuxing stops at the cap: about 0.1 s here, not 10 minutes' worth
    start = time.perf_counter()
    result = analyze(pipeline, zoo, odd["ten_minutes"], "a long talk")
    assert time.perf_counter() - start < 30  # typically 1-3 s on 2 busy cores
    _sane(result)
    assert _has(result, "only the first 60 s are analysed")


@pytest.mark.parametrize("name, shape", [
    ("fps7", (14, 120, 160, 3)),     # 7 fps: every source frame kept (fewer than the 10 we sample)
    ("rotated", (10, 80, 40, 3)),    # 80x40 stored, display matrix 90°: read upright, 40 wide
    ("wide", (5, 6, 640, 3)),        # 4000x40 scaled to the 640 px longest side
    ("tiny", (10, 2, 2, 3)),         # 2x2 px (the smallest yuv420p frame)
])
def test_odd_fps_rotation_and_resolution(pipeline, zoo, odd, own_tmp, name, shape):
    clip = load_media(odd[name])
    assert clip.frames.shape == shape and clip.has_audio
    result = analyze(pipeline, zoo, odd[name], "fine")
    _sane(result)
    assert result["available"]["text"] and result["available"]["audio"]
    assert not list(own_tmp.iterdir())


def test_browser_recorded_webm(pipeline, zoo, odd, own_tmp):
    clip = load_media(odd["browser_webm"])
    assert clip.source_duration is None  # as MediaRecorder writes it: no duration in the header
    assert clip.has_video and clip.has_audio and abs(clip.duration - 2.0) < 0.2
    result = analyze(pipeline, zoo, odd["browser_webm"], "hello there")
    _sane(result)
    assert result["available"]["audio"] and result["available"]["text"]
    assert not list(own_tmp.iterdir())


def test_speech_language_flows_into_the_result(pipeline, zoo, generated, own_tmp, monkeypatch):
    """Whisper's detected language reaches the JSON; speech that is not English is shown as heard and
    read in Whisper's translation, or, without one, says the text model reads English. Whisper's
    answer is stubbed (a tone has no words); real German speech is in test_asr.py."""
    from msa_demo.asr import ASRResult, Transcript

    def heard(language, english=None):
        transcript = Transcript("ein schöner film" if language == "de" else "a lovely film", language=language,
                                source="whisper", english=english)
        return lambda audio, language=None: ASRResult(transcript)

    monkeypatch.setattr(pipeline.asr, "load", lambda: None)
    monkeypatch.setattr(pipeline.asr, "transcribe", heard("de"))
    german = analyze(pipeline, zoo, generated["tone"])
    _sane(german)
    assert german["language"] == "de" and german["transcript"] == "ein schöner film"
    assert german["available"]["text"]  # kept, with a warning: the model still reads something
    assert _has(german, "speech detected as 'de': the text model reads English, so the text modality may")
    monkeypatch.setattr(pipeline.asr, "transcribe", heard("de", english="a lovely film"))
    translated = analyze(pipeline, zoo, generated["tone"])
    assert translated["transcript"] == "ein schöner film" and _has(translated, "English translation")
    typed = analyze(pipeline, zoo, generated["tone"], "a lovely film")  # the model read the translation
    assert translated["contributions"]["text"] == pytest.approx(typed["contributions"]["text"])
    monkeypatch.setattr(pipeline.asr, "transcribe", heard("en"))
    english = analyze(pipeline, zoo, generated["tone"])
    assert english["language"] == "en" and not _has(english, "speech detected as")
    assert analyze(pipeline, zoo, generated["tone"], "typed words")["language"] is None
    assert not list(own_tmp.iterdir())


# --- through a live server ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_server):
    from gradio_client import Client

    return Client(app_server, verbose=False)


def _still_answers(client) -> None:
    result = client.predict(None, "still here", MODEL, api_name="/analyze")
    assert result["transcript"] == "still here"


def test_server_survives_bad_inputs(client, generated, odd):
    from gradio_client import handle_file

    for path, message in [(generated["empty"], "is empty"), (generated["text_as_mp4"], "not a readable"),
                          (odd["truncated"], "not a readable"), (generated["unsupported"], "unsupported file type")]:
        with pytest.raises(Exception, match=f"Cannot use this input: .*{message}"):
            client.predict(handle_file(str(path)), "", MODEL, api_name="/analyze")
    for path, text in [(generated["silence"], ""), (generated["no_audio"], ""), (odd["garbled"], "ok")]:
        result = client.predict(handle_file(str(path)), text, MODEL, api_name="/analyze")
        assert result["notices"]
    _still_answers(client)


def test_server_refuses_an_upload_over_the_limit(client, app_server, tmp_path):
    """conftest starts the server with MSA_MAX_UPLOAD_MB=8: Gradio stops the upload at 8 MiB (413)."""
    from gradio_client import handle_file

    big = tmp_path / "big.mp4"
    with open(big, "wb") as fh:
        fh.truncate(9 * 2**20)
    with pytest.raises(Exception, match="exceeds the maximum file size of 8388608 bytes"):
        client.predict(handle_file(str(big)), "", MODEL, api_name="/analyze")  # gradio_client checks first
    # a client that does not check: the server stops reading at the limit
    import urllib.error
    import urllib.request

    boundary = "msa-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mp4\"\r\n"
            f"Content-Type: video/mp4\r\n\r\n").encode() + big.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(app_server + "gradio_api/upload", body,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=60)
    assert info.value.code == 413 and "maximum allowed size of 8388608 bytes" in info.value.read().decode()
    _still_answers(client)


def _post_analyze(url: str, file_data: dict) -> str:
    """/analyze over plain HTTP (what a crafted request can send): the SSE stream's text."""
    import json
    import urllib.request

    body = json.dumps({"data": [file_data, "", MODEL]}).encode()
    request = urllib.request.Request(url + "gradio_api/call/analyze", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/analyze/{event_id}", timeout=60) as response:
        return response.read().decode()


@pytest.mark.parametrize("where", ["etc", "tempdir", "traversal"])
def test_a_request_cannot_name_a_file_outside_the_upload_area(app_server, client, generated, where):
    """A FileData path the server did not receive as an upload is refused by Gradio before our code
    runs, even a readable clip in the temp folder (Gradio serves that folder's outputs)."""
    path = {"etc": "/etc/hostname",
            "tempdir": str(generated["noise_with_tone"]),  # a valid clip under tempfile.gettempdir()
            "traversal": tempfile.gettempdir() + "/gradio/../../../../etc/passwd"}[where]
    stream = _post_analyze(app_server, {"path": path, "meta": {"_type": "gradio.FileData"}})
    # refused by Gradio ("Cannot move … because it was not uploaded by a user", in the server log)
    # before /analyze runs: our handler words every error, Gradio's own hidden ones come back null
    assert "event: error" in stream and '"error": null' in stream and '"score"' not in stream
    _still_answers(client)


# --- containers: the ones we promise open, a playlist posing as a video does not ------------------
@pytest.mark.parametrize("name, vcodec, acodec", [("clip.mov", "libx264", "aac"), ("clip.mkv", "libx264", "libopus"),
                                                  ("clip.avi", "mpeg4", "libmp3lame"), ("clip.m4v", "libx264", "aac")])
def test_every_promised_video_container_opens(tmp_path, name, vcodec, acodec):
    path = write_video(tmp_path / name, noise_frames(10, 32, 32), fps=10, audio=tone(1.0), vcodec=vcodec,
                       acodec=acodec)
    clip = load_media(path)
    assert clip.has_video and clip.has_audio


@pytest.mark.parametrize("name, codec", [("voice.opus", "libopus"), ("voice.aac", "aac")])
def test_every_promised_audio_container_opens(tmp_path, name, codec):
    from media_factory import write_audio

    assert load_media(write_audio(tmp_path / name, tone(1.0), codec=codec)).has_audio


def test_a_playlist_named_mp4_cannot_open_other_files(tmp_path, generated):
    """FFmpeg probes the bytes: an ffconcat list called .mp4 would play the files it names (found
    before the fix: it decoded a clip next to it). Only real containers and local files are allowed."""
    import shutil

    shutil.copy(generated["noise_with_tone"], tmp_path / "other.mp4")
    (tmp_path / "playlist.mp4").write_text("ffconcat version 1.0\nfile other.mp4\n")
    (tmp_path / "stream.mp4").write_text("#EXTM3U\n#EXTINF:10.0,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n")
    for name in ("playlist.mp4", "stream.mp4"):
        with pytest.raises(CorruptMediaError, match=f"{name} is not a readable video file"):
            load_media(tmp_path / name)


# --- requests that name files: ids and corpus names stay inside the caches ------------------------
@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    """cache/mosi (what the app may open) and outside/ next to it, a valid cache no request may reach."""
    from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
    from msa_demo.features.spec import FEATURE_DIMS, FEATURE_SPEC_ID
    from msa_demo.features.types import ModalityFeatures

    base = tmp_path_factory.mktemp("caches")
    for folder in (base / "cache" / "mosi", base / "outside"):
        folder.mkdir(parents=True)
        values = np.ones((3, FEATURE_DIMS["text"]), np.float32)
        row = {"id": "m0", "split": "test", "group": "", "label": 1.0, "label_class": "", "label_detail": "",
               "text": "words", "text_source": "given", "source": "", "face_fraction": 0.0,
               "voiced_fraction": 0.0, "duration": 0.0, "notices": ""}
        features = {"text": ModalityFeatures(values, np.ones(3, bool), np.full((3, 2), np.nan))}
        write_shard(folder / shard_name(0), [row], [features], FEATURE_DIMS, FEATURE_SPEC_ID, folder.name)
        write_index(folder, [row], {"format": CACHE_FORMAT, "feature_spec_id": FEATURE_SPEC_ID,
                                    "corpus": folder.name, "complete": True,
                                    "splits": {"train": 0, "valid": 0, "test": 1}, "media_root": ""})
    return base / "cache"


BAD_CORPORA = ["../outside", "..", ".", "", "/etc", "mosi/../../outside", "mosi/..", "..\\outside", ".hidden",
               "mosi\x00", "x" * 200]


@pytest.mark.parametrize("corpus", BAD_CORPORA)
def test_corpus_names_from_a_request_cannot_leave_the_cache_root(cache_root, zoo, corpus):
    from msa_demo.error_analysis.split import ErrorAnalysisError, load_sample, run_split

    with pytest.raises(ErrorAnalysisError, match="is not a corpus name"):
        load_sample(cache_root, corpus, "test", "m0")
    with pytest.raises(ErrorAnalysisError, match="is not a corpus name"):
        run_split(zoo.get(MODEL), cache_root, corpus, "test")


@pytest.mark.parametrize("item", ["../../etc/passwd", "/etc/passwd", "m0/../m0", "../outside/m0", "m0\x00"])
def test_item_ids_are_looked_up_never_opened(cache_root, item):
    from msa_demo.error_analysis.split import ErrorAnalysisError, load_sample

    assert load_sample(cache_root, "mosi", "test", "m0")[2] == "words"  # the real one opens
    with pytest.raises(ErrorAnalysisError, match="is not in the mosi cache"):
        load_sample(cache_root, "mosi", "test", item)
    with pytest.raises(ErrorAnalysisError, match="not ../../x"):
        load_sample(cache_root, "mosi", "../../x", "m0")  # a split is compared, not opened


def test_a_crafted_table_row_is_refused_by_the_error_tab(cache_root, zoo):
    """The error tab's table selection comes back from the browser: any row a client makes up ends in
    a message (`open_sample` shows MediaErrors as 'Cannot open this sample: …')."""
    from msa_demo.ui.context import AppContext
    from msa_demo.ui.errors_tab import sample_extracted

    ctx = AppContext(pipeline=None, zoo=zoo, cache_root=cache_root)
    assert sample_extracted(ctx, {"corpus": "mosi", "split": "test", "id": "m0"}).transcript == "words"
    for selected in ({"corpus": "../outside", "split": "test", "id": "m0"},
                     {"corpus": "mosi", "split": "test", "id": "../../../etc/passwd"}):
        with pytest.raises(MediaError):
            sample_extracted(ctx, selected)


def test_sample_copies_stay_in_their_folder(tmp_path, own_tmp):
    from msa_demo.error_analysis.media import _servable_copy, sample_dir

    source = tmp_path / "clip.flac"
    source.write_bytes(b"sound")
    for corpus, item in [("..", "../../etc/x"), ("mosi", ".."), ("../..", "/abs/path"), ("a/b", "c\\d")]:
        copy = Path(_servable_copy(str(source), corpus, item)).resolve()
        assert copy.is_relative_to(sample_dir().resolve()) and copy.read_bytes() == b"sound"


def test_model_names_are_looked_up_never_opened(zoo):
    for name in ("../../etc/passwd", "late_fusion/../../x", "/tmp/model"):
        with pytest.raises(KeyError, match="unknown model"):
            zoo.get(name)


@pytest.mark.slow
def test_uploads_are_deleted_when_the_server_stops(whisper_base, tmp_path, odd):
    """Its own server (~20 s): Gradio's cache ($GRADIO_TEMP_DIR) keeps uploads; with delete_cache set
    and SIGTERM handled like Ctrl-C (app.py), stopping the server removes them, even with a page still
    open: its heartbeat stream used to hold up the server's shutdown until the process exited without
    deleting anything (and so, by chance, did the client's own, which lingers up to 15 s after close)."""
    from contextlib import ExitStack

    import httpx
    from gradio_client import Client, handle_file

    from app_server import running_app

    cache = tmp_path / "gradio-tmp"
    with ExitStack() as page:
        with running_app(tmp_path, {"MSA_WHISPER_MODEL": whisper_base}) as url:
            client = Client(url, verbose=False)
            client.predict(handle_file(str(odd["tiny"])), "ok", MODEL, api_name="/analyze")
            client.close()
            assert [p for p in cache.rglob("tiny.mp4")]  # the upload, while the server runs
            # a browser tab left open: its heartbeat stays connected while the server stops
            page.enter_context(httpx.stream("GET", f"{url}gradio_api/heartbeat/open-page", timeout=60))
        assert not [p for p in cache.rglob("tiny.mp4")]
