"""The files the fuzzer mutates: the real MOSI clips from ../shared when present, and small files of
every other kind made here, so the fuzzer runs (and finds things) on a machine without ../shared.

Made here, each about 2 s: a WAV (PCM), an MP3, a PNG still, an H.264/AAC MP4 and a VP8/Opus WebM as
a browser records it, with a harmonic tone for sound and moving noise for picture.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
SR = 16_000


def seed_files(folder: Path, shared: bool = True) -> list[Path]:
    """Write the made seeds into `folder`; add the shared clips (read in place) when `shared`."""
    folder.mkdir(parents=True, exist_ok=True)
    sound = _tone(2.0)
    picture = np.random.default_rng(0).integers(0, 256, (20, 96, 128, 3), dtype=np.uint8)
    made = [
        _write_audio(folder / "seed.wav", sound, "pcm_s16le", SR),
        _write_audio(folder / "seed.mp3", sound, "libmp3lame", SR),
        _write_png(folder / "seed.png", picture[0]),
        _write_video(folder / "seed.mp4", picture, sound, "libx264", "aac", SR),
        _write_video(folder / "seed.webm", picture, sound, "libvpx", "libopus", 48_000),
    ]
    clips = sorted((SHARED / "media" / "mosi_clips").glob("*.mp4")) if shared else []
    return clips + made


def _tone(seconds: float, freq: float = 180.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(freq * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))) / SR
    return (0.15 * sum(np.sin(k * phase) / k for k in range(1, 6))).astype(np.float32)


def _write_png(path: Path, rgb: np.ndarray) -> Path:
    import cv2

    ok, png = cv2.imencode(".png", rgb[..., ::-1])
    path.write_bytes(png.tobytes())
    return path


def _write_audio(path: Path, samples: np.ndarray, codec: str, rate: int) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        _encode_audio(out, stream, samples)
    return path


def _write_video(path: Path, frames: np.ndarray, samples: np.ndarray, vcodec: str, acodec: str,
                 rate: int, fps: int = 10) -> Path:
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height, video.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        audio = out.add_stream(acodec, rate=rate)
        audio.layout = "mono"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        _encode_audio(out, audio, samples)
    return path


def _encode_audio(out, stream, samples: np.ndarray) -> None:
    import av

    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    for start in range(0, len(pcm), 1024):
        frame = av.AudioFrame.from_ndarray(pcm[None, start:start + 1024], format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SR, start, Fraction(1, SR)
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
