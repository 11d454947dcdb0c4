"""Acoustic features per 20 ms frame with librosa: MFCC + deltas, pitch and voicing, energy, shape.

Values are raw (dB, kHz, log-Hz); models standardise them with statistics kept in the checkpoint.
librosa's pitch tracker is numba-compiled: `warm_up()` pays that cost once per process, at start,
instead of on the first user's clip.
"""

from __future__ import annotations

import threading

import numpy as np

from .spec import (
    AUDIO_DIM,
    AUDIO_FFT,
    AUDIO_HOP,
    AUDIO_WIN,
    N_MFCC,
    PITCH_FMAX,
    PITCH_FMIN,
    PITCH_FRAME,
    SAMPLE_RATE,
)
from .types import ModalityFeatures

SILENCE_DBFS = -60.0  # a clip whose loudest frame is below this holds no usable sound

_warm = threading.Event()


def warm_up() -> None:
    """Compile librosa's numba kernels (seconds, once per process; cached on disk after that)."""
    if not _warm.is_set():
        noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 0.1
        _features(noise)
        _warm.set()


def extract_audio(samples: np.ndarray) -> tuple[ModalityFeatures, float, str | None]:
    """(features, voiced fraction, notice). Silence or no audio -> modality off, with a notice."""
    if len(samples) < PITCH_FRAME:
        notice = "audio too short: audio modality off" if len(samples) else None
        return ModalityFeatures.absent(AUDIO_DIM), 0.0, notice
    if is_silent(samples):
        return ModalityFeatures.absent(AUDIO_DIM), 0.0, "the audio is silent: audio modality off"
    values = _features(np.asarray(samples, dtype=np.float32))
    n = len(values)
    start = np.arange(n) * AUDIO_HOP / SAMPLE_RATE
    times = np.stack([start, start + AUDIO_HOP / SAMPLE_RATE], axis=1)
    voiced_fraction = float(values[:, 2 * N_MFCC + 2].mean())
    return ModalityFeatures(values, np.ones(n, bool), times), voiced_fraction, None


def is_silent(samples: np.ndarray) -> bool:
    """True when no 20 ms frame is louder than SILENCE_DBFS (nothing to hear, nothing to transcribe)."""
    if not len(samples):
        return True
    usable = len(samples) // AUDIO_HOP * AUDIO_HOP or len(samples)
    frames = np.asarray(samples[:usable], dtype=np.float64).reshape(-1, min(AUDIO_HOP, usable))
    loudest = float(np.sqrt((frames**2).mean(axis=1)).max())
    return 20 * np.log10(max(loudest, 1e-10)) < SILENCE_DBFS


def _features(y: np.ndarray) -> np.ndarray:
    import librosa

    from .viterbi import install

    install()  # pyin's Viterbi, same numbers in half the time (viterbi.py)

    stft = np.abs(librosa.stft(y, n_fft=AUDIO_FFT, hop_length=AUDIO_HOP, win_length=AUDIO_WIN))
    power = stft**2
    mel = librosa.feature.melspectrogram(S=power, sr=SAMPLE_RATE, n_mels=40)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=N_MFCC)
    delta = librosa.feature.delta(mfcc, width=min(9, _odd_at_most(mfcc.shape[1])), mode="nearest")
    f0, voiced, voiced_prob = librosa.pyin(
        y, fmin=PITCH_FMIN, fmax=PITCH_FMAX, sr=SAMPLE_RATE, frame_length=PITCH_FRAME,
        hop_length=AUDIO_HOP,
    )
    rms = librosa.feature.rms(S=stft, frame_length=AUDIO_FFT)[0]
    energy_db = 20 * np.log10(np.maximum(rms, 1e-5))
    centroid = librosa.feature.spectral_centroid(S=stft, sr=SAMPLE_RATE)[0] / 1000
    bandwidth = librosa.feature.spectral_bandwidth(S=stft, sr=SAMPLE_RATE)[0] / 1000
    flatness = librosa.feature.spectral_flatness(S=stft)[0]
    rolloff = librosa.feature.spectral_rolloff(S=stft, sr=SAMPLE_RATE)[0] / 1000
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=AUDIO_WIN, hop_length=AUDIO_HOP)[0]
    columns = [*mfcc, *delta, _fill_log_f0(f0, voiced), voiced_prob, voiced.astype(np.float32),
               energy_db, centroid, bandwidth, flatness, rolloff, zcr]
    n = min(len(c) for c in columns)
    out = np.stack([np.nan_to_num(c[:n]) for c in columns], axis=1).astype(np.float32)
    assert out.shape[1] == AUDIO_DIM
    return out


def _fill_log_f0(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """log-F0, interpolated through unvoiced frames (the `voiced` column says which are real)."""
    idx = np.flatnonzero(voiced & np.isfinite(f0))
    if len(idx) == 0:
        return np.zeros(len(f0), np.float32)
    return np.interp(np.arange(len(f0)), idx, np.log(f0[idx])).astype(np.float32)


def _odd_at_most(n: int) -> int:
    return max(3, n if n % 2 else n - 1)
