"""What a bad room or a bad microphone does to a voice, at a set severity (16 kHz float32 in and out).

The parameters are set, not drawn (training/voice_augment.py draws them from the same functions), and
the noise and the room are seeded, so one severity is always the same waveform.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .dsp import SAMPLE_RATE, coloured_noise, decaying_noise, mix_at_snr, wet_mix

REVERB_WET = 0.7  # the share of reverberant sound: a laptop microphone across a room


def noise(audio: np.ndarray, colour: str, snr_db: float, seed: int = 0) -> np.ndarray:
    """White, pink or brown noise at `snr_db` below the clip's mean power."""
    y = np.asarray(audio, np.float64)
    return _finish(mix_at_snr(y, coloured_noise(len(y), colour, np.random.default_rng(seed)), snr_db))


def reverb(audio: np.ndarray, rt60: float, seed: int = 0) -> np.ndarray:
    """A room whose echo dies away by 60 dB in `rt60` seconds, heard mostly through its echo."""
    y = np.asarray(audio, np.float64)
    response = decaying_noise(rt60, np.random.default_rng(seed))
    if not len(response):
        return _finish(y)
    response[0] = 1.0  # the direct sound
    return _finish(wet_mix(y, response, REVERB_WET))


def band_limit(audio: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Nothing above `cutoff_hz` (a phone line is ~3.4 kHz): an 8th-order Butterworth low-pass."""
    y = np.asarray(audio, np.float64)
    if cutoff_hz >= SAMPLE_RATE / 2:
        return _finish(y)
    sos = signal.butter(8, cutoff_hz, btype="lowpass", fs=SAMPLE_RATE, output="sos")
    return _finish(signal.sosfilt(sos, y))


def clipping(audio: np.ndarray, level: float) -> np.ndarray:
    """A hot input: the waveform cut at `level` x its peak, then brought back to the peak's loudness."""
    y = np.asarray(audio, np.float64)
    peak = np.abs(y).max() or 1.0
    return _finish(np.clip(y, -level * peak, level * peak) / level)


def _finish(y: np.ndarray) -> np.ndarray:
    """float32 within [-1, 1]: scaled down if the degradation went over full scale (never clipped
    here, so that only `clipping` clips)."""
    peak = np.abs(y).max() if len(y) else 0.0
    if peak > 1.0:
        y = y / peak
    return y.astype(np.float32)
