"""Waveform degradations shared by training's voice augmentation (training/voice_augment.py, which
draws their parameters at random) and the app's perturbation sweeps (perturb/audio.py, which sets
them): one implementation, so "10 dB pink noise" means the same thing in both.

Changing any expression here changes training's cached voice variants: keep outputs bit-identical
(tests/test_perturb_audio.py pins them).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

SAMPLE_RATE = 16_000
NOISE_COLOURS = ("white", "pink", "brown")


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f^0 (white), 1/f (pink) or 1/f^2 (brown) power spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    return np.fft.irfft(spectrum / f**exponent, n)


def mix_at_snr(y: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`y` plus `noise` scaled to `snr_db` below y's mean power."""
    speech_power = max((y**2).mean(), 1e-12)
    noise = noise * np.sqrt(speech_power / 10 ** (snr_db / 10) / max((noise**2).mean(), 1e-12))
    return y + noise


def decaying_noise(rt60: float, rng: np.random.Generator) -> np.ndarray:
    """A room's impulse response without its direct sound: noise decaying by 60 dB over `rt60` s."""
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    return rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60


def wet_mix(y: np.ndarray, response: np.ndarray, mix: float) -> np.ndarray:
    """`y` through `response`, at y's energy, mixed with the dry sound (`mix` = share of wet)."""
    wet = signal.fftconvolve(y, response)[: len(y)]
    wet *= np.sqrt((y**2).sum() / max((wet**2).sum(), 1e-12))
    return (1 - mix) * y + mix * wet
