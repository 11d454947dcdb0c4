"""The voice, 10 steps a second: how it sounds, never what it says.

Per 100 ms step: openSMILE's eGeMAPS v02 descriptors (features/egemaps.py: loudness, spectral
balance, MFCC 1-4, F0, jitter, shimmer, HNR, formants) and pyin's prosody (log-F0, voicing, energy),
measured against the speaker's own median (features/voice_reference.py). Spec v2 read Whisper's
encoder states here; they carry the words, and its voice learnt RAVDESS's two sentences instead of
the emotion (at chance once they were shuffled: reports/guard_reliability.md), so no recognition
state is read. librosa's pitch tracker is numba-compiled: `warm_up()` pays that once per process.

Only the speech is read: `speech_span` finds it (Silero VAD's first speech start to its last speech
end, SPEECH_PAD either side) and the steps outside it are masked, so the studio silence around a
RAVDESS sentence and the room around a webcam recording are not part of the voice (nor of its
median). Silero, not an energy threshold: with background noise an energy threshold keeps the
silence and a clean copy of the same clip loses it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .egemaps import LLD_HOP
from .spec import (
    AUDIO_DIM,
    AUDIO_FFT,
    AUDIO_HOP,
    AUDIO_POOL,
    EGEMAPS_LOG,
    EGEMAPS_NAMES,
    EGEMAPS_VOICED_FROM,
    LOG_FLOOR,
    PITCH_FMAX,
    PITCH_FMIN,
    PITCH_FRAME,
    PROSODY_NAMES,
    SAMPLE_RATE,
)
from .types import ModalityFeatures
from .voice_reference import VoiceReference, reference_of, relative_to

SILENCE_DBFS = -60.0  # a clip whose loudest frame is below this holds no usable sound
SPEECH_PAD = 0.1  # seconds kept either side of the speech found (a word's onset and release)
MIN_SPAN = 0.2  # seconds: the shortest span encoded (Whisper's encoder needs a few frames)
SPEECH_SPAN_DB = 35.0  # no speech found by the VAD: the span of frames within this of the loudest

_warm = threading.Event()


def warm_up() -> None:
    """Compile librosa's numba kernels (seconds, once per process; cached on disk after that)."""
    if not _warm.is_set():
        noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 0.1
        _prosody(noise)
        _warm.set()


def usable_audio(samples: np.ndarray) -> str | None:
    """None when the voice can be read; else why not (a notice; "" when there is no audio at all)."""
    if len(samples) < PITCH_FRAME:
        return "audio too short: audio modality off" if len(samples) else ""
    if is_silent(samples):
        return "the audio is silent: audio modality off"
    return None


def prosody(samples: np.ndarray) -> np.ndarray:
    """[20 ms steps, 4]: log-F0 (interpolated through unvoiced steps), voicing probability, voiced
    flag, energy in dB. The slow part of the voice (pyin), run alongside the transcription."""
    return _prosody(np.asarray(samples, dtype=np.float32))


@dataclass
class Voice:
    """A recording's voice: the model's (speaker-relative) features, the raw steps they were made
    from and the recording's own reference, so a session can measure it again against a longer one."""

    features: ModalityFeatures
    raw: np.ndarray  # [T, AUDIO_DIM] before `relative_to`
    reference: VoiceReference  # the recording's own medians
    voiced_fraction: float

    def against(self, reference: VoiceReference | None) -> ModalityFeatures:
        """The features measured against another reference (None: the recording's own)."""
        if reference is None:
            return self.features
        f = self.features
        return ModalityFeatures(relative_to(self.raw, f.mask, reference), f.mask, f.times, f.present)


def voice_features(steps: np.ndarray, lld: np.ndarray, span: tuple[int, int], n_samples: int,
                   reference: VoiceReference | None = None) -> Voice:
    """The voice from pyin's 20 ms prosody `steps`, openSMILE's 10 ms `lld` and the speech `span`
    (samples) of the same audio: 100 ms steps, masked outside the span, measured against `reference`
    (None: the recording's own median)."""
    n20 = int(np.ceil(n_samples / AUDIO_HOP))
    rows = np.zeros((n20, len(PROSODY_NAMES)), np.float32)
    rows[: min(n20, len(steps))] = steps[:n20]
    if len(steps) < n20 and len(steps):
        rows[len(steps):] = steps[-1]  # pyin's last frame can stop a step short of the audio
    prosodic = _pool(rows)
    n = len(prosodic)
    raw = np.concatenate([_pool_egemaps(lld, n), prosodic], axis=1)
    start = np.arange(n) * AUDIO_POOL * AUDIO_HOP / SAMPLE_RATE
    step = AUDIO_POOL * AUDIO_HOP / SAMPLE_RATE
    inside = np.clip(np.minimum(start + step, span[1] / SAMPLE_RATE) - np.maximum(start, span[0] / SAMPLE_RATE), 0, None)
    mask = inside >= step / 2
    times = np.stack([start, np.minimum(start + step, n_samples / SAMPLE_RATE)], axis=1)
    voiced_fraction = float(steps[:, PROSODY_NAMES.index("voiced")].mean()) if len(steps) else 0.0
    assert raw.shape[1] == AUDIO_DIM
    own = reference_of(raw, mask)
    values = relative_to(raw, mask, reference if reference is not None else own)
    return Voice(ModalityFeatures(values, mask, times), raw, own, voiced_fraction)


def _pool_egemaps(lld: np.ndarray, n: int) -> np.ndarray:
    """[n, 26]: the 10 ms descriptors averaged per 100 ms step (the voiced-only ones over voiced
    frames; 0 where a step has none) and the step's share of voiced frames."""
    per = int(round(AUDIO_POOL * AUDIO_HOP / SAMPLE_RATE / LLD_HOP))  # 10 frames a step
    frames = np.zeros((n * per, len(EGEMAPS_NAMES)), np.float32)
    frames[: min(len(lld), n * per)] = lld[: n * per]
    for name in EGEMAPS_LOG:
        j = EGEMAPS_NAMES.index(name)
        frames[:, j] = np.log(np.maximum(frames[:, j], 0.0) + LOG_FLOOR)
    frames = frames.reshape(n, per, -1)
    exists = (np.arange(n * per) < len(lld)).reshape(n, per)
    voiced = exists & (frames[:, :, EGEMAPS_VOICED_FROM] > 0)
    out = np.zeros((n, len(EGEMAPS_NAMES) + 1), np.float32)
    count = np.maximum(exists.sum(1, keepdims=True), 1)
    out[:, :EGEMAPS_VOICED_FROM] = (frames[:, :, :EGEMAPS_VOICED_FROM] * exists[:, :, None]).sum(1) / count
    nv = voiced.sum(1, keepdims=True)
    out[:, EGEMAPS_VOICED_FROM:-1] = np.where(
        nv > 0, (frames[:, :, EGEMAPS_VOICED_FROM:] * voiced[:, :, None]).sum(1) / np.maximum(nv, 1), 0.0)
    out[:, -1] = voiced.sum(1) / per
    return out


def speech_span(samples: np.ndarray) -> tuple[int, int]:
    """(start, end) in samples of the speech: Silero VAD's first start to its last end, SPEECH_PAD
    either side; when the VAD hears no speech, the frames within SPEECH_SPAN_DB of the loudest. At
    least MIN_SPAN long (inside the audio)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    n = len(samples)
    y = np.ascontiguousarray(samples, dtype=np.float32)
    found = get_speech_timestamps(y, VadOptions(speech_pad_ms=0, min_silence_duration_ms=100)) if n else []
    pad = int(SPEECH_PAD * SAMPLE_RATE)
    if found:
        start, end = found[0]["start"] - pad, found[-1]["end"] + pad
    else:
        start, end = _energy_span(y)
    start, end = max(start, 0), min(end, n)
    short = int(MIN_SPAN * SAMPLE_RATE) - (end - start)
    if short > 0:
        start = max(0, start - short // 2)
        end = min(n, start + int(MIN_SPAN * SAMPLE_RATE))
        start = max(0, end - int(MIN_SPAN * SAMPLE_RATE))
    return start, end


def _energy_span(y: np.ndarray) -> tuple[int, int]:
    """The frames (20 ms) from the first to the last within SPEECH_SPAN_DB of the loudest."""
    usable = len(y) // AUDIO_HOP * AUDIO_HOP
    if usable == 0:
        return 0, len(y)
    rms = np.sqrt((y[:usable].astype(np.float64).reshape(-1, AUDIO_HOP) ** 2).mean(1))
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    loud = np.flatnonzero(db >= db.max() - SPEECH_SPAN_DB)
    return int(loud[0] * AUDIO_HOP), int((loud[-1] + 1) * AUDIO_HOP)


def _pool(values: np.ndarray) -> np.ndarray:
    """Mean over AUDIO_POOL consecutive rows (the last group may be shorter)."""
    n = int(np.ceil(len(values) / AUDIO_POOL))
    padded = np.full((n * AUDIO_POOL, values.shape[1]), np.nan, np.float32)
    padded[: len(values)] = values
    return np.nanmean(padded.reshape(n, AUDIO_POOL, -1), axis=1).astype(np.float32)


def is_silent(samples: np.ndarray) -> bool:
    """True when no 20 ms frame is louder than SILENCE_DBFS (nothing to hear, nothing to transcribe)."""
    if not len(samples):
        return True
    usable = len(samples) // AUDIO_HOP * AUDIO_HOP or len(samples)
    frames = np.asarray(samples[:usable], dtype=np.float64).reshape(-1, min(AUDIO_HOP, usable))
    loudest = float(np.sqrt((frames**2).mean(axis=1)).max())
    return 20 * np.log10(max(loudest, 1e-10)) < SILENCE_DBFS


def _prosody(y: np.ndarray) -> np.ndarray:
    import librosa

    from .viterbi import install

    install()  # pyin's Viterbi, same numbers in half the time (viterbi.py)

    f0, voiced, voiced_prob = librosa.pyin(
        y, fmin=PITCH_FMIN, fmax=PITCH_FMAX, sr=SAMPLE_RATE, frame_length=PITCH_FRAME,
        hop_length=AUDIO_HOP,
    )
    rms = librosa.feature.rms(y=y, frame_length=AUDIO_FFT, hop_length=AUDIO_HOP)[0]
    energy_db = 20 * np.log10(np.maximum(rms, 1e-5))
    columns = [_fill_log_f0(f0, voiced), voiced_prob, voiced.astype(np.float32), energy_db]
    n = min(len(c) for c in columns)
    return np.stack([np.nan_to_num(c[:n]) for c in columns], axis=1).astype(np.float32)


def _fill_log_f0(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """log-F0, interpolated through unvoiced frames (the `voiced` column says which are real)."""
    idx = np.flatnonzero(voiced & np.isfinite(f0))
    if len(idx) == 0:
        return np.zeros(len(f0), np.float32)
    return np.interp(np.arange(len(f0)), idx, np.log(f0[idx])).astype(np.float32)
