"""Decoded audio frames of any, even changing, format -> one 16 kHz mono float32 track.

PyAV's `AudioResampler` is set up by the first frame it sees and raises `ValueError: Frame does not
match AudioResampler setup.` on a frame of another sample format, layout or rate. Damaged files do
that mid-stream (../shared/media/fuzz/audio_format_change.mp4 turns from stereo to "22 channels"),
and so may an intact one (a recording spliced from two sources). So each run of frames in one format
gets its own resampler (the previous one is flushed first), and a frame that no resampler accepts
is dropped and counted: one bad frame never costs the whole analysis.

Where frames were lost (a packet that would not decode: `lost()`; a frame dropped here) their
duration is filled with silence before the next kept frame, so what survives stays in step with the
video. Only known losses are filled, not gaps between timestamps: a demuxer's timestamps are wrong
exactly where the format changes (ADTS counts a spliced 44.1 kHz part in 16 kHz frame durations).
The track starts at the first kept frame's time (`start`); `samples()` puts that much silence in
front (audio that starts after the video) and cuts at `max_seconds`.
"""

from __future__ import annotations

import av
import numpy as np

from .features.spec import SAMPLE_RATE


class AudioTrack:
    def __init__(self, max_seconds: float, rate: int = SAMPLE_RATE):
        self.rate = rate
        self.limit = int(max_seconds * rate)
        self.start: float | None = None  # clip time of the first kept frame (s)
        self.dropped = 0  # frames no resampler would take
        self.format_changes = 0
        self.filled = 0  # samples of silence put where frames were lost
        self._pending = 0.0  # seconds lost since the last kept frame
        self._chunks: list[np.ndarray] = []
        self._length = 0  # samples appended so far (after `start`)
        self._resampler = None
        self._format: tuple | None = None

    def lost(self, seconds: float) -> None:
        """A packet of this stream that would not decode, lasting `seconds` (0 when unknown)."""
        if self.start is not None and 0 < seconds < 10:  # before the first frame nothing is out of step
            self._pending += seconds

    def add(self, frame, t: float) -> None:
        """One decoded frame at clip time `t` (seconds)."""
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        try:
            if key != self._format:
                if self._format is not None:
                    self.format_changes += 1
                self._flush()
                self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
                self._format = key
            converted = self._resampler.resample(frame)
        except (ValueError, av.FFmpegError):  # an impossible layout ("22 channels"), a bad rate
            self.dropped += 1
            self._resampler = self._format = None
            if frame.sample_rate:
                self.lost(frame.samples / frame.sample_rate)
            return
        if self.start is None:
            self.start = max(t, 0.0)
        gap = min(int(round(self._pending * self.rate)), max(self.limit - self._length, 0))
        self._pending = 0.0
        if gap > 0:
            self._append(np.zeros(gap, np.float32))
            self.filled += gap
        for out in converted:
            self._append(out.to_ndarray().reshape(-1))

    def samples(self) -> np.ndarray:
        """The whole track, flushed, with the lead silence in front, at most `max_seconds` long."""
        self._flush()
        if not self._chunks:
            return np.zeros(0, np.float32)
        samples = np.concatenate(self._chunks).astype(np.float32, copy=False)
        lead = int(round((self.start or 0.0) * self.rate))
        if lead > 0:  # audio starts after the video: keep the timelines aligned
            samples = np.concatenate([np.zeros(lead, np.float32), samples])
        return samples[: self.limit]

    def notices(self) -> list[str]:
        """What was lost, for the clip's notices (empty for an intact track)."""
        said = []
        if self.dropped:
            said.append(f"{self.dropped} audio frame(s) in an unusable format were dropped")
        elif self.format_changes:
            said.append(f"the audio format changes mid-stream ({self.format_changes}x): each part resampled on its own")
        if self.filled:
            said.append(f"{self.filled / self.rate:.1f} s of audio could not be decoded: silence keeps the rest "
                        "in step with the video")
        return said

    def _append(self, chunk: np.ndarray) -> None:
        if self._length < self.limit:  # past the cap nothing is kept anyway
            self._chunks.append(chunk)
            self._length += len(chunk)

    def _flush(self) -> None:
        if self._resampler is None:
            return
        try:
            for out in self._resampler.resample(None):
                self._append(out.to_ndarray().reshape(-1))
        except (ValueError, av.FFmpegError):
            pass
        self._resampler = self._format = None
