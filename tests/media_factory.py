"""Media files the tests make themselves: silence, noise video, video without sound, webm, …"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SR = 16_000


def tone(seconds: float, freq: float = 180.0, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    """A voiced-like harmonic tone with a slow vibrato (pitch tracker finds it)."""
    t = np.arange(int(seconds * sr)) / sr
    f = freq * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (amplitude * wave / 2).astype(np.float32)


def write_audio(path: Path, samples: np.ndarray, sr: int = SR, codec: str | None = None) -> Path:
    codec = codec or {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame",
                      ".ogg": "libopus", ".m4a": "aac"}[path.suffix]
    rate = 48_000 if codec == "libopus" else sr
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        _encode_audio(out, stream, samples, sr)
    return path


def write_video(path: Path, frames: np.ndarray, fps: int = 15, audio: np.ndarray | None = None,
                vcodec: str = "libx264", acodec: str = "aac", rotation: int | None = None,
                options: dict | None = None) -> Path:
    """frames [N, H, W, 3] uint8 RGB; audio 16 kHz mono or None for a video without a sound track.
    rotation: display-matrix rotation (counter-clockwise degrees, as phones record upright clips);
    options: muxer options (e.g. {"live": "1"} for a webm without cues or duration, as browsers write)."""
    with av.open(str(path), "w", options=options or {}) as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height = frames.shape[2], frames.shape[1]
        video.pix_fmt = "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        astream = None
        if audio is not None:
            astream = out.add_stream(acodec, rate=48_000 if acodec == "libopus" else SR)
            astream.layout = "mono"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if astream is not None:
            _encode_audio(out, astream, audio, SR)
    return path


def noise_frames(n: int, height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, height, width, 3), dtype=np.uint8)


def _encode_audio(out, stream, samples: np.ndarray, sr: int) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    block = 1024
    for start in range(0, len(pcm), block):
        frame = av.AudioFrame.from_ndarray(pcm[None, start: start + block], format="s16", layout="mono")
        frame.sample_rate = sr
        frame.pts = start
        frame.time_base = Fraction(1, sr)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
