"""Decoded audio against an independent clock: a sine of known frequency and length, written at
another rate than ours, must come back at exactly 16 kHz (as many samples as seconds say, the
frequency where we put it), and a clip whose sound starts after its picture must keep that gap, so
that words and faces stay at the same times.

A 2 % resampling error (16.32 kHz) or a dropped audio lead would pass the looser checks elsewhere
(test_media.py compares the audio with a duration computed from the same audio)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import noise_frames
from msa_demo.media import load_media

SR = 16_000


def _sine(seconds: float, freq: float, rate: int) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def _encode(out, stream, samples: np.ndarray, rate: int, offset: int = 0) -> None:
    pcm = (samples * 32767).astype(np.int16)
    for start in range(0, len(pcm), 1024):
        frame = av.AudioFrame.from_ndarray(pcm[None, start:start + 1024], format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, offset + start, Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def _frequency(samples: np.ndarray) -> float:
    """From rising zero crossings, fitted over the whole signal: ~0.01 Hz precise on 3 s of sine."""
    rising = np.flatnonzero((samples[:-1] < 0) & (samples[1:] >= 0))
    exact = rising + samples[rising] / (samples[rising] - samples[rising + 1])  # linear interpolation
    return SR / float(np.polyfit(np.arange(len(exact)), exact, 1)[0])


@pytest.mark.parametrize("suffix, codec, rate", [(".wav", "pcm_s16le", 44_100), (".flac", "flac", 22_050),
                                                 (".m4a", "aac", 48_000)])
def test_a_known_sine_comes_back_at_16_khz(tmp_path, suffix, codec, rate):
    path = tmp_path / f"sine{suffix}"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        _encode(out, stream, _sine(3.0, 1000.0, rate), rate)
    audio = load_media(path).audio
    priming = 2048 * SR // rate if codec == "aac" else 0  # AAC's encoder delay, at most 2 frames
    assert 3 * SR <= len(audio) <= 3 * SR + priming + 16
    assert _frequency(audio[SR // 10:-SR // 10]) == pytest.approx(1000.0, abs=0.5)


@pytest.fixture(scope="module")
def late_audio(tmp_path_factory) -> Path:
    """3 s of picture from t = 0; a 1 s sine burst whose stream starts at t = 1.0 s."""
    path = tmp_path_factory.mktemp("late") / "late_audio.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=SR)
        audio.layout = "mono"
        for i, rgb in enumerate(noise_frames(30, 48, 64)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        _encode(out, audio, _sine(1.0, 500.0, SR), SR, offset=SR)
    return path


def test_sound_that_starts_after_the_picture_keeps_its_place(late_audio):
    with av.open(str(late_audio)) as container:  # the premise: the file says so
        start = container.streams.audio[0].start_time * container.streams.audio[0].time_base
        assert float(start) == pytest.approx(1.0, abs=0.07)  # (AAC starts 1024 samples early)
    clip = load_media(late_audio)
    onset = np.flatnonzero(np.abs(clip.audio) > 0.1)[0] / SR
    assert onset == pytest.approx(1.0, abs=0.03)
    assert len(clip.frames) == 30 and clip.frame_times[0] == pytest.approx(0.0)
    assert clip.duration == pytest.approx(3.0, abs=0.1)
