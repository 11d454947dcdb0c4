"""Make studio speech sound like a laptop or phone microphone in a room: seeded waveform variants.

RAVDESS is 24 actors in a quiet studio with a good microphone; the app hears webcams and laptops in
rooms. Each variant draws a chain of what those add — room reverb, the microphone's band and colour,
background noise at a realistic SNR, gain and the clipping of a hot input, a lossy codec's narrow
band — so the voice model cannot lean on the studio's sound. Variants are made for training items
only, at extraction time, and cached (k per item, `--augment k`): never for validation or test.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

SAMPLE_RATE = 16_000


def augment(audio: np.ndarray, seed: int) -> np.ndarray:
    """One variant of `audio` (16 kHz float32); the same seed gives the same variant."""
    rng = np.random.default_rng(seed)
    y = np.asarray(audio, dtype=np.float64)
    peak = np.abs(y).max() or 1.0
    if rng.random() < 0.7:
        y = reverb(y, rng)
    y = microphone(y, rng)
    if rng.random() < 0.8:
        y = add_noise(y, rng, snr_db=rng.uniform(5.0, 25.0))
    if rng.random() < 0.2:
        y = narrow_band(y, rng)
    y = y / (np.abs(y).max() or 1.0) * peak * 10 ** (rng.uniform(-12.0, 6.0) / 20)
    if rng.random() < 0.15:  # a hot input clips
        y = np.clip(y, -0.3, 0.3) / 0.3 * peak
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def reverb(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small room: an exponentially decaying noise impulse response (RT60 0.15-0.7 s), mixed wet."""
    rt60 = rng.uniform(0.15, 0.7)
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    response = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    response[0] = 1.0 / rng.uniform(0.3, 1.0)  # the direct sound, stronger nearer the microphone
    wet = signal.fftconvolve(y, response)[: len(y)]
    wet *= np.sqrt((y**2).sum() / max((wet**2).sum(), 1e-12))
    mix = rng.uniform(0.3, 0.9)
    return (1 - mix) * y + mix * wet


def microphone(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A cheap microphone's band (high-pass 80-300 Hz, low-pass 3.5-7.5 kHz) and a colouring peak."""
    low, high = rng.uniform(80.0, 300.0), rng.uniform(3500.0, 7500.0)
    band = signal.butter(4, [low, high], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    y = signal.sosfilt(band, y)
    centre, gain_db = rng.uniform(500.0, 4000.0), rng.uniform(-6.0, 6.0)
    b, a = _peaking(centre, gain_db, q=rng.uniform(0.7, 2.0))
    return signal.lfilter(b, a, y)


def add_noise(y: np.ndarray, rng: np.random.Generator, snr_db: float) -> np.ndarray:
    """White, pink or brown noise (fan, hum of a room, traffic) at `snr_db` below the speech."""
    colour = rng.choice(["white", "pink", "brown"])
    noise = coloured_noise(len(y), colour, rng)
    speech_power = max((y**2).mean(), 1e-12)
    noise *= np.sqrt(speech_power / 10 ** (snr_db / 10) / max((noise**2).mean(), 1e-12))
    return y + noise


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f^0 (white), 1/f (pink) or 1/f^2 (brown) power spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    return np.fft.irfft(spectrum / f**exponent, n)


def narrow_band(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A call or a lossy codec: down to 8 kHz and back (nothing above 4 kHz), 8-bit mu-law half the time."""
    down = signal.resample_poly(y, 1, 2)
    if rng.random() < 0.5:
        mu = 255.0
        scale = np.abs(down).max() or 1.0
        x = down / scale
        coded = np.round(np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) * 127) / 127
        down = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu * scale
    return signal.resample_poly(down, 2, 1)[: len(y)]


def _peaking(centre: float, gain_db: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """A peaking equaliser (the Audio EQ Cookbook's biquad)."""
    amplitude = 10 ** (gain_db / 40)
    w = 2 * np.pi * centre / SAMPLE_RATE
    alpha = np.sin(w) / (2 * q)
    b = np.array([1 + alpha * amplitude, -2 * np.cos(w), 1 - alpha * amplitude])
    a = np.array([1 + alpha / amplitude, -2 * np.cos(w), 1 - alpha / amplitude])
    return b / a[0], a / a[0]
