"""Decoding: the real clips, every container we promise, and every way a file can be bad."""

import numpy as np
import pytest

from msa_demo.errors import CorruptMediaError, EmptyFileError, MediaError, UnsupportedMediaError
from msa_demo.media import load_image, load_media


def test_real_clips_decode_with_frames_and_audio(mosi_clips):
    for path in mosi_clips:
        clip = load_media(path)
        assert clip.kind == "video" and clip.has_video and clip.has_audio
        assert clip.frames.dtype == np.uint8 and clip.frames.shape[-1] == 3
        gaps = np.diff(clip.frame_times)
        assert np.all(gaps > 0) and abs(np.median(gaps) - 0.1) < 0.02  # ~10 fps sampling
        assert abs(len(clip.audio) / 16_000 - clip.duration) < 0.15
        assert not clip.notices


@pytest.mark.parametrize("name", ["tone", "tone_mp3", "tone_ogg", "tone_m4a", "silence"])
def test_audio_formats_decode_to_16k_mono(generated, name):
    clip = load_media(generated[name])
    assert clip.kind == "audio" and not clip.has_video
    assert clip.audio.dtype == np.float32 and clip.audio.ndim == 1
    assert abs(len(clip.audio) / 16_000 - 2.0) < 0.1


def test_tone_survives_decoding(generated):
    clip = load_media(generated["tone"])
    spectrum = np.abs(np.fft.rfft(clip.audio))
    peak_hz = np.argmax(spectrum) * 16_000 / len(clip.audio)
    assert 160 < peak_hz < 200  # the 180 Hz fundamental is where we put it


def test_browser_webm_decodes_both_streams(generated):
    clip = load_media(generated["webm"])
    assert clip.has_video and clip.has_audio
    assert len(clip.frames) == pytest.approx(20, abs=2)  # 2 s at 10 fps


def test_video_without_audio_track_is_a_partial_result(generated):
    clip = load_media(generated["no_audio"])
    assert clip.has_video and not clip.has_audio
    assert any("no audio track" in n for n in clip.notices)


def test_zero_byte_file(generated):
    with pytest.raises(EmptyFileError, match="0 bytes"):
        load_media(generated["empty"])


def test_text_file_named_mp4(generated):
    with pytest.raises(CorruptMediaError, match="notes.mp4"):
        load_media(generated["text_as_mp4"])


def test_unsupported_type(generated):
    with pytest.raises(UnsupportedMediaError, match=".txt"):
        load_media(generated["unsupported"])


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        load_media(tmp_path / "nope.mp4")


def test_over_long_input_is_cut_with_a_notice(generated):
    clip = load_media(generated["long"])  # 62 s, default cap 60 s
    assert len(clip.audio) == 60 * 16_000
    assert any("only the first 60 s" in n for n in clip.notices)
    short = load_media(generated["long"], max_seconds=5)
    assert len(short.audio) == 5 * 16_000


def test_large_frames_are_scaled_down(tmp_path):
    from media_factory import noise_frames, write_video

    path = write_video(tmp_path / "big.mp4", noise_frames(5, height=720, width=1280))
    clip = load_media(path)
    assert max(clip.frames.shape[1:3]) == 640 and clip.frames.shape[1] == 360


def test_image_bytes(tmp_path):
    import cv2

    ok, png = cv2.imencode(".png", np.full((48, 48, 3), 128, np.uint8))
    clip = load_image(png.tobytes())
    assert clip.kind == "image" and clip.frames.shape == (1, 48, 48, 3)
    with pytest.raises(CorruptMediaError):
        load_image(b"not an image")
