"""One visitor's stream: its buffers, its words, its rolling rows. Pure Python, no Gradio.

The page keeps one `StreamState` per visitor (a gr.State made per session); the microphone's and
the webcam's events both write into it, so every change happens under its lock. Updates are
serialised apart (`running`), so a frame or a chunk never waits for a whole update.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..asr import Word
from ..media import DEFAULT_MAX_SECONDS
from .agreement import LocalAgreement
from .buffers import AudioBuffer, FrameBuffer, Resampler, to_mono_float

MAX_ROWS = 240  # rolling rows kept for the over-time line (4 minutes at one a second)


@dataclass(frozen=True)
class StreamConfig:
    """How often and over what the rolling score is read (bench/stream_latency.py measures them)."""

    update_every: float = 0.5  # seconds of new audio that make an update due (it runs when the last ends)
    window: float = 6.0  # the rolling score's span: the voice, the face and the words of the last 6 s
    frame_fps: float = 2.0  # webcam frames kept a second (the face is read on these)
    frame_side: int = 480  # longest side of a kept frame, px
    trim_after: float = 8.0  # past this, the ASR buffer starts again at the last committed word
    asr_max: float = 20.0  # never longer than this (Whisper reads 30 s at most)
    media_every: float = 1.0  # the voice and the face of the window are read again this often
    background_media: bool = True  # read them alongside the next transcription, not in its way
    max_seconds: float = DEFAULT_MAX_SECONDS  # of the recording kept for the final analysis

    @property
    def keep(self) -> float:
        return max(self.window, self.asr_max) + 2.0


@dataclass
class RollingUpdate:
    """One rolling update: what it scored, and when its result was ready (time.monotonic())."""

    index: int
    end: float  # stream seconds heard when it started
    ready: float
    result: dict  # session.explain(): score, contributions, …
    scored: list[Word]  # the words of its window, committed and tentative
    committed: list[Word]
    tentative: list[Word]
    seconds: dict[str, float] = field(default_factory=dict)  # asr, media (waited), score


class StreamState:
    def __init__(self, config: StreamConfig | None = None) -> None:
        self.config = config or StreamConfig()
        self.lock = threading.RLock()
        self.running = threading.Lock()
        self.active = False  # between the microphone's start and stop (chunks outside are ignored)
        self.generation = 0  # recordings so far
        self.reset()

    def __deepcopy__(self, memo):
        """gr.State deep-copies the value it makes for each session; a fresh state is that session's
        already (and a lock cannot be copied)."""
        return self

    def reset(self) -> None:
        """A new recording: everything heard, seen and scored before is dropped."""
        c = self.config
        with self.lock:
            self.generation += 1  # an update still running for the last recording is dropped
            self.origin = time.monotonic()
            self.audio = AudioBuffer(c.keep, c.max_seconds)
            self.frames = FrameBuffer(c.frame_fps, c.keep, c.max_seconds, c.frame_side)
            self.resample = Resampler()
            self.agreement = LocalAgreement()
            self.language: str | None = None
            self.asr_start = 0.0  # stream time where the ASR buffer starts
            self.last_update_end = 0.0
            self.updates = 0
            self.rows: list[dict] = []
            self.media = None  # (stream end, Extracted) of the latest window read
            self.media_job = None  # (stream end, Future) of the window being read
            self.notices: list[str] = []
            self.latest: RollingUpdate | None = None
            self.shown = 0  # the index of the last update handed to the page
            self.job = None  # the Future of the update running in the background
            self.final: tuple | None = None  # (Extracted, analysis) once the stream has stopped

    def start(self) -> None:
        self.reset()
        self.active = True

    def stop(self) -> bool:
        """Stop taking chunks; False when it was not running (a second stop, a stop without start).
        An update still running is dropped: the final analysis replaces it, and need not wait."""
        with self.lock:
            was, self.active = self.active, False
            self.generation += 1
            return was

    def heard_share(self) -> float:
        """Seconds of audio received per second since the start: under 1 when the server, too busy to
        take every chunk, lost some (Gradio keeps only the newest one that arrives meanwhile)."""
        with self.lock:
            elapsed = time.monotonic() - self.origin
            return self.audio.end / elapsed if elapsed > 0 else 1.0

    def release_media(self) -> None:
        """The final analysis has read the recording: drop the audio and the frames (the words, the
        rows and the results stay for the page)."""
        c = self.config
        with self.lock:
            self.audio = AudioBuffer(c.keep, c.max_seconds)
            self.frames = FrameBuffer(c.frame_fps, c.keep, c.max_seconds, c.frame_side)
            self.media = self.media_job = None

    def add_audio(self, rate: int, samples: np.ndarray) -> float:
        """A chunk from the microphone (any rate, int or float, mono or not); returns seconds heard."""
        mono = to_mono_float(samples)
        with self.lock:
            self.audio.add(self.resample(int(rate), mono))
            return self.audio.end

    def add_frame(self, frame: np.ndarray, t: float | None = None) -> bool:
        """A webcam frame at stream time `t` (default: now, on the clock `reset` started)."""
        with self.lock:
            when = time.monotonic() - self.origin if t is None else float(t)
            return self.frames.add(frame, when)

    def due(self) -> bool:
        """Enough new audio for a rolling update."""
        with self.lock:
            heard = self.audio.end
            return heard > 0 and heard - self.last_update_end >= self.config.update_every
