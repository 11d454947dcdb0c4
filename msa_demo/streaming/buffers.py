"""What a stream keeps: its audio at 16 kHz and a few webcam frames a second, on one clock.

Two spans are kept, both bounded: the recent past the rolling updates read (`keep` seconds), and the
recording from its start up to `max_seconds`, which the final analysis reads. Nothing else grows
with the length of a stream.
"""

from __future__ import annotations

import numpy as np

from ..features.spec import SAMPLE_RATE


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """A browser chunk (int16 or float, mono or [n, channels]) as float32 mono in −1…1."""
    data = np.asarray(samples)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    data = data.astype(np.float32, copy=False)
    return data.mean(axis=1) if data.ndim == 2 else data.reshape(-1)


class Resampler:
    """Chunks at the browser's rate to 16 kHz without a seam at each chunk's edge (one soxr stream)."""

    def __init__(self) -> None:
        self._rate: int | None = None
        self._stream = None

    def __call__(self, rate: int, samples: np.ndarray) -> np.ndarray:
        if rate == SAMPLE_RATE:
            return samples
        if rate != self._rate:
            import soxr  # librosa's resampler

            self._rate, self._stream = rate, soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
        return self._stream.resample_chunk(samples)


class AudioBuffer:
    """16 kHz audio on the stream clock: `end` seconds heard so far."""

    def __init__(self, keep: float, max_seconds: float) -> None:
        self.keep, self.max_seconds = keep, max_seconds
        self._recent = np.zeros(0, np.float32)
        self._recording: list[np.ndarray] = []
        self._recorded = 0
        self.received = 0  # samples since the start

    @property
    def end(self) -> float:
        return self.received / SAMPLE_RATE

    @property
    def truncated(self) -> bool:
        return self.received > self._recorded

    def add(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, np.float32)
        self.received += len(samples)
        room = int(self.max_seconds * SAMPLE_RATE) - self._recorded
        if room > 0:
            self._recording.append(samples[:room])
            self._recorded += len(samples[:room])
        self._recent = np.concatenate([self._recent, samples])[-int(self.keep * SAMPLE_RATE):]

    def since(self, start: float) -> tuple[float, np.ndarray]:
        """(where it starts, the samples from `start` to the end), clamped to the recent past kept."""
        first = self.received - len(self._recent)
        offset = max(int(round(start * SAMPLE_RATE)), first)
        return offset / SAMPLE_RATE, self._recent[offset - first:]

    def recording(self) -> np.ndarray:
        """The recording from its start (up to `max_seconds`)."""
        return np.concatenate(self._recording) if self._recording else np.zeros(0, np.float32)


JPEG_QUALITY = 90  # a kept frame is ~30 kB instead of 500 kB: a minute of webcam is a few MB a visitor


class FrameBuffer:
    """Webcam frames at most `fps` a second, scaled to at most `side` px and to the first frame's size,
    kept as JPEG (a visitor who leaves mid-stream holds a few MB until the session expires)."""

    def __init__(self, fps: float, keep: float, max_seconds: float, side: int) -> None:
        self.fps, self.keep, self.max_seconds, self.side = fps, keep, max_seconds, side
        self._frames: list[tuple[float, bytes]] = []
        self._next = 0.0
        self._shape: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def add(self, frame: np.ndarray, t: float) -> bool:
        """Keep the frame if it is due; False when it was dropped (too soon after the last one)."""
        if t < self._next or frame is None or np.ndim(frame) != 3:
            return False
        self._next = t + 1.0 / self.fps
        self._frames.append((t, _jpeg(self._fit(np.asarray(frame)[..., :3]))))
        recent = t - self.keep
        self._frames = [(s, f) for s, f in self._frames if s >= recent or s < self.max_seconds]
        return True

    def between(self, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
        """(frames [N, H, W, 3], times) with start <= t < end."""
        picked = [(t, f) for t, f in self._frames if start <= t < end]
        if not picked:
            return np.zeros((0, 1, 1, 3), np.uint8), np.zeros(0)
        return np.stack([_rgb(f) for _, f in picked]), np.array([t for t, _ in picked], dtype=np.float64)

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        import cv2  # comes with mediapipe

        if self._shape is None:
            h, w = frame.shape[:2]
            scale = min(1.0, self.side / max(h, w))
            self._shape = (max(2, int(h * scale) // 2 * 2), max(2, int(w * scale) // 2 * 2))
        if frame.shape[:2] != self._shape:
            frame = cv2.resize(frame, self._shape[::-1], interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(frame, dtype=np.uint8)


def _jpeg(rgb: np.ndarray) -> bytes:
    import cv2

    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("a webcam frame could not be encoded")
    return data.tobytes()


def _rgb(data: bytes) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
