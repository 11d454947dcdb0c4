"""Whisper: the real transcribe path on a tiny random checkpoint, and ASR being unavailable."""

import numpy as np

from media_factory import tone
from msa_demo.asr import UNAVAILABLE, WhisperASR
from msa_demo.media import load_media


def test_random_whisper_gives_words_with_non_decreasing_times(tiny_whisper, mosi_clips):
    asr = WhisperASR(str(tiny_whisper), device="cpu")
    clip = load_media(mosi_clips[0])
    result = asr.transcribe(clip.audio)
    assert result.notice is None
    transcript = result.transcript
    assert transcript.source == "whisper" and isinstance(transcript.language, str)
    assert transcript.words and transcript.text
    starts = [w.start for w in transcript.words]
    assert all(b >= a for a, b in zip(starts, starts[1:]))
    assert all(w.end >= w.start for w in transcript.words)
    assert 0 <= starts[0] and transcript.words[-1].end <= clip.duration + 1.0


def test_same_audio_same_transcript(tiny_whisper):
    asr = WhisperASR(str(tiny_whisper), device="cpu")
    audio = tone(3.0)
    assert asr.transcribe(audio).transcript.text == asr.transcribe(audio).transcript.text


def test_unavailable_weights_say_so_instead_of_raising(tmp_path):
    asr = WhisperASR("base", download_root=str(tmp_path))  # offline in tests, nothing cached
    result = asr.transcribe(np.zeros(16_000, np.float32))
    assert result.transcript is None
    assert result.notice.startswith(UNAVAILABLE)


def test_corrupt_checkpoint_is_unavailable_not_a_crash(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    result = WhisperASR(str(bad)).transcribe(np.zeros(16_000, np.float32))
    assert result.transcript is None and UNAVAILABLE in result.notice


def test_typed_transcript_skips_asr(tiny_whisper, generated):
    from msa_demo.pipeline import FeaturePipeline

    pipe = FeaturePipeline(whisper_model=str(tiny_whisper))
    bundle = pipe.extract(str(generated["tone"]), transcript="  I   loved it ")
    assert bundle.transcript.source == "user" and bundle.transcript.text == "I loved it"
    assert not pipe.asr.loaded
