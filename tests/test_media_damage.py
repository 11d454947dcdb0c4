"""Damage inside a stream costs only what is damaged: audio that changes format mid-stream (the
fuzzer's audio_format_change.mp4, and a spliced recording made here), packets that will not decode,
frames that will not convert, a demuxer that fails half-way, a picture size that changes. Each keeps
what decoded and says what was lost, never fails the whole analysis."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import SHARED
from media_factory import noise_frames, tone, write_video
from msa_demo import media
from msa_demo.audio_track import AudioTrack
from msa_demo.media import load_media
from msa_demo.session import analyze_input

FORMAT_CHANGE = SHARED / "media" / "fuzz" / "audio_format_change.mp4"
SR = 16_000


def _adts(path: Path, samples: np.ndarray, rate: int, layout: str) -> Path:
    """Raw AAC (ADTS): every frame carries its own rate and channel count."""
    channels = 2 if layout == "stereo" else 1
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="adts") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = layout
        for start in range(0, len(pcm), 1024):
            block = np.repeat(pcm[start:start + 1024, None], channels, 1).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="s16", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def spliced(tmp_path_factory) -> Path:
    """1 s of a 180 Hz tone, mono 16 kHz, then 1 s of 440 Hz, stereo 44.1 kHz, in one .aac file (two
    recordings glued together): the decoder's output format changes after one second."""
    d = tmp_path_factory.mktemp("spliced")
    first = _adts(d / "a.aac", tone(1.0), SR, "mono")
    t = np.arange(44_100) / 44_100
    second = _adts(d / "b.aac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44_100, "stereo")
    path = d / "spliced.aac"
    path.write_bytes(first.read_bytes() + second.read_bytes())
    return path


def _peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SR / len(samples))


def test_audio_that_changes_format_mid_stream_is_resampled_piece_by_piece(spliced):
    with av.open(str(spliced)) as container:  # the premise: PyAV sees two formats
        formats = {(f.layout.name, f.sample_rate) for f in container.decode(audio=0)}
    assert formats == {("mono", SR), ("stereo", 44_100)}
    clip = load_media(spliced)
    assert abs(len(clip.audio) / SR - 2.0) < 0.2  # both parts, at their own rates (AAC adds priming)
    assert 170 < _peak_hz(clip.audio[2_000:14_000]) < 190  # the first part: 180 Hz
    assert 435 < _peak_hz(clip.audio[-14_000:-2_000]) < 445  # the second, resampled from 44.1 kHz
    assert any("format changes mid-stream" in n for n in clip.notices)


@pytest.mark.skipif(not FORMAT_CHANGE.is_file(), reason=f"{FORMAT_CHANGE} is absent")
def test_the_fuzzers_format_change_file_keeps_the_video(pipeline, zoo):
    clip = load_media(FORMAT_CHANGE)  # raised "Frame does not match AudioResampler setup." before
    assert len(clip.frames) == 25 and clip.has_audio  # all 2.5 s of video; the audio up to the damage
    assert any("unusable format were dropped" in n for n in clip.notices)
    assert any("audio stream is badly damaged" in n for n in clip.notices)
    result = analyze_input(pipeline, zoo, str(FORMAT_CHANGE), "it was fine", "late_fusion")
    assert result["available"]["text"] and result["available"]["audio"]
    assert result["baseline"] + sum(result["contributions"].values()) == pytest.approx(result["score"])
    assert any("audio frame(s)" in n for n in result["notices"])
    # its pictures are damaged too (green blocks where the face was): decoded, said, no face read
    assert any("the video is damaged" in n for n in result["notices"])


def test_an_undecodable_frame_keeps_its_place_in_time():
    """Frames lost between two good ones become silence of their length: later audio stays in step."""
    track = AudioTrack(max_seconds=10)
    frame = av.AudioFrame.from_ndarray(np.full((1, 1600), 0.5, np.float32), format="flt", layout="mono")
    frame.sample_rate = SR
    track.add(frame, 0.0)
    track.lost(0.2)  # a packet that would not decode
    bad = av.AudioFrame(format="fltp", layout="22 channels", samples=800)  # no resampler takes it, as in
    bad.sample_rate = SR  # audio_format_change.mp4: it is dropped, and its 50 ms become silence too
    track.add(bad, 0.3)
    track.add(frame, 0.35)
    samples = track.samples()
    assert abs(len(samples) - (1600 + 3200 + 800 + 1600)) <= 32  # (the resampler's own delay)
    assert np.all(samples[1700:5500] == 0) and samples[-100:].min() > 0.4
    assert track.dropped == 1
    assert track.notices() == ["1 audio frame(s) in an unusable format were dropped",
                               "0.2 s of audio could not be decoded: silence keeps the rest in step with the video"]


def test_late_audio_start_is_kept_as_lead_silence():
    track = AudioTrack(max_seconds=10)
    frame = av.AudioFrame.from_ndarray(np.ones((1, 1600), np.float32), format="flt", layout="mono")
    frame.sample_rate = SR
    track.add(frame, 0.5)
    samples = track.samples()
    assert len(samples) == 8000 + 1600 and not samples[:7900].any()


@pytest.fixture(scope="module")
def clip_with_sound(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", noise_frames(20), fps=10, audio=tone(2.0))


def test_frames_that_will_not_convert_are_skipped_with_a_notice(clip_with_sound, monkeypatch):
    convert, calls = media._to_rgb, []

    def flaky(frame, max_side):
        calls.append(1)
        if len(calls) % 3 == 0:
            raise ValueError("bad frame")
        return convert(frame, max_side)

    monkeypatch.setattr(media, "_to_rgb", flaky)
    clip = load_media(clip_with_sound)
    assert 12 <= len(clip.frames) < 20 and clip.has_audio
    assert any("video frame(s) could not be converted" in n for n in clip.notices)


def test_a_demuxer_failing_half_way_keeps_what_was_read(clip_with_sound, monkeypatch):
    demux = av.container.InputContainer.demux

    def failing(self, *streams):
        for n, packet in enumerate(demux(self, *streams)):
            if n == 15:
                raise RuntimeError("something inside the demuxer")
            yield packet

    monkeypatch.setattr(av.container.InputContainer, "demux", failing)
    clip = load_media(clip_with_sound)
    assert clip.has_video or clip.has_audio
    assert any("decoding stopped early" in n for n in clip.notices)


def test_a_picture_size_change_is_rescaled_not_fatal():
    notices: list[str] = []
    frames = [np.zeros((40, 60, 3), np.uint8), np.full((80, 120, 3), 9, np.uint8)]
    stacked = media._stack(frames, notices)
    assert stacked.shape == (2, 40, 60, 3) and stacked[1].min() == 9
    assert notices == ["the picture size changes mid-stream: 1 frame(s) rescaled to 60x40"]


def _garbled(path: Path) -> Path:
    """An H.264 clip with the middle quarter of its bytes overwritten (the index at the end survives)."""
    data = bytearray(write_video(path, noise_frames(40, 96, 128), fps=10, audio=tone(4.0)).read_bytes())
    n = len(data)
    data[n // 4: n // 2] = np.random.default_rng(3).integers(0, 256, n // 2 - n // 4, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("which", ["garbled", "format_change"])
def test_a_damaged_video_decodes_the_same_every_time(tmp_path, which):
    """Frame-threaded decoding conceals damage differently on each run (the soak saw one upload get two
    scores); a damaged video is decoded on one thread instead, with a notice."""
    if which == "format_change" and not FORMAT_CHANGE.is_file():
        pytest.skip(f"{FORMAT_CHANGE} is absent")
    path = FORMAT_CHANGE if which == "format_change" else _garbled(tmp_path / "garbled.mp4")
    clips = [load_media(path) for _ in range(4)]
    for clip in clips[1:]:
        assert np.array_equal(clip.frames, clips[0].frames) and np.array_equal(clip.audio, clips[0].audio)
    assert any("the video is damaged" in n or "damaged packet" in n for n in clips[0].notices)


def test_only_a_damaged_video_is_decoded_a_second_time(tmp_path, clip_with_sound, monkeypatch):
    decode, passes = media._decode, []

    def spy(*args):
        passes.append(args[-1])  # `threaded`
        return decode(*args)

    monkeypatch.setattr(media, "_decode", spy)
    load_media(clip_with_sound)
    assert passes == [True]  # an intact clip: one frame-threaded pass, nothing more
    passes.clear()
    load_media(_garbled(tmp_path / "garbled.mp4"))
    assert passes == [True, False]
