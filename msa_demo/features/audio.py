"""The voice, 10 steps a second: Whisper's encoder states (what was heard, 512-d) and prosody
(log-F0, voicing, energy: how it was said, and what the timeline draws).

The encoder states come from the ASR's own pass (`asr.EncoderWindow`: fixed 30 s windows, 50
states a second), so reading the voice costs no second encoder pass; prosody comes from pyin and the
RMS energy at 20 ms. Both are averaged over 5 steps (100 ms). Values are raw; models standardise
them with statistics kept in the checkpoint. librosa's pitch tracker is numba-compiled: `warm_up()`
pays that once per process, at start, instead of on the first user's clip.

Only the speech is read, and only the speech is encoded: `speech_span` finds it (Silero VAD's first
speech start to its last speech end, SPEECH_PAD either side), Whisper's encoder runs on that span
alone (asr.py), and the steps outside it are masked. Why before the encoder and not after: RAVDESS
clips are ~45 % studio silence around the sentence, real recordings are cut at the words or hold
any amount of silence, and Whisper's states of the speech depend on the silence before it
(reports/voice_diagnosis.md) — a model trained on masked-but-encoded silence learnt "speech after
studio silence". Silero, not an energy threshold: with background noise (a laptop, a room) an
energy threshold keeps the silence and a clean copy of the same clip loses it.
"""

from __future__ import annotations

import threading

import numpy as np

from .spec import (
    AUDIO_DIM,
    AUDIO_FFT,
    AUDIO_HOP,
    AUDIO_POOL,
    PITCH_FMAX,
    PITCH_FMIN,
    PITCH_FRAME,
    PROSODY_NAMES,
    SAMPLE_RATE,
    WHISPER_DIM,
)
from .types import ModalityFeatures

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


def voice_features(steps: np.ndarray, windows: list, n_samples: int) -> tuple[ModalityFeatures, float]:
    """(features, voiced fraction) from prosody steps and Whisper's encoder windows of the same audio
    (windows of the speech span: the steps they do not cover are masked)."""
    n20 = int(np.ceil(n_samples / AUDIO_HOP))
    states = np.zeros((n20, WHISPER_DIM), np.float32)
    covered = np.zeros(n20, bool)
    for window in windows:
        first = int(round(window.start / (AUDIO_HOP / SAMPLE_RATE)))
        part = window.states[: max(n20 - first, 0)]
        states[first: first + len(part)] = part
        covered[first: first + len(part)] = True
    rows = np.zeros((n20, len(PROSODY_NAMES)), np.float32)
    rows[: min(n20, len(steps))] = steps[:n20]
    if len(steps) < n20 and len(steps):
        rows[len(steps):] = steps[-1]  # pyin's last frame can stop a step short of the audio
    values = _pool(np.concatenate([states, rows], axis=1))
    n = len(values)
    mask = _pool(covered[:, None].astype(np.float32))[:, 0] >= 0.5
    start = np.arange(n) * AUDIO_POOL * AUDIO_HOP / SAMPLE_RATE
    times = np.stack([start, np.minimum(start + AUDIO_POOL * AUDIO_HOP / SAMPLE_RATE, n_samples / SAMPLE_RATE)], axis=1)
    voiced_fraction = float(steps[:, PROSODY_NAMES.index("voiced")].mean()) if len(steps) else 0.0
    assert values.shape[1] == AUDIO_DIM
    return ModalityFeatures(values, mask, times), voiced_fraction


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
