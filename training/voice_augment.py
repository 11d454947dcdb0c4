"""Make studio speech sound like a laptop or phone microphone in a room: seeded waveform variants.

RAVDESS is 24 actors in a quiet studio with a good microphone; the app hears webcams and laptops in
rooms. Each variant draws a chain of what those add — room reverb, the microphone's band and colour,
background noise at a realistic SNR, gain and the clipping of a hot input, a lossy codec's narrow
band — so the voice model cannot lean on the studio's sound; and half the variants are sped up or
slowed down by up to 10 % (pitch and rate together, Kaldi-style speed perturbation), because 20 actors
are few voices. Variants are made for training items
only, at extraction time, and cached (k per item, `--augment k`): never for validation or test.

`scramble_content` (`--scramble s`: s more variants, scrambled before the chain above) shuffles the
speech in word-sized pieces. RAVDESS actors say two sentences, so Whisper's states of any other words
lie off the training voices (reports/voice_diagnosis.md: 54-71 % of a real voice's pooled features);
shuffled pieces keep the speaker's pitch, loudness and voice quality — what the emotion is heard in —
and give the encoder word sequences the actors never said.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

# the DSP is shared with the app's perturbation sweeps (one implementation, outputs unchanged)
from msa_demo.perturb.dsp import SAMPLE_RATE, coloured_noise, decaying_noise, mix_at_snr, wet_mix

__all__ = ["SAMPLE_RATE", "add_noise", "augment", "coloured_noise", "microphone", "narrow_band", "reverb",
           "scramble_content", "speed"]

PIECE_SECONDS = (0.15, 0.35)  # a syllable to a short word
CROSSFADE = 160  # samples (10 ms) between shuffled pieces, so no cut clicks


def augment(audio: np.ndarray, seed: int) -> np.ndarray:
    """One variant of `audio` (16 kHz float32); the same seed gives the same variant."""
    rng = np.random.default_rng(seed)
    y = np.asarray(audio, dtype=np.float64)
    if rng.random() < 0.5:
        y = speed(y, rng)
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


def scramble_content(audio: np.ndarray, seed: int) -> np.ndarray:
    """The speech span of `audio` cut into 0.15-0.35 s pieces in a seeded random order (10 ms
    crossfades); the silence around it is kept. The same length within a few crossfades."""
    from msa_demo.features.audio import speech_span

    rng = np.random.default_rng(seed)
    y = np.asarray(audio, dtype=np.float64)
    start, end = speech_span(y.astype(np.float32))
    cuts = [start]
    while cuts[-1] < end:
        cuts.append(min(end, cuts[-1] + int(rng.uniform(*PIECE_SECONDS) * SAMPLE_RATE)))
    pieces = [y[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b - a > 2 * CROSSFADE]
    if len(pieces) < 2:
        return np.asarray(audio, dtype=np.float32)
    order = rng.permutation(len(pieces))
    ramp = np.linspace(0.0, 1.0, CROSSFADE)
    speech = pieces[order[0]].copy()
    for i in order[1:]:
        piece = pieces[i]
        speech[-CROSSFADE:] = speech[-CROSSFADE:] * ramp[::-1] + piece[:CROSSFADE] * ramp
        speech = np.concatenate([speech, piece[CROSSFADE:]])
    return np.concatenate([y[:start], speech, y[end:]]).astype(np.float32)


def speed(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Played 0.9-1.1x as fast (resampled: pitch moves with the rate, as a tape would)."""
    down = int(rng.integers(18, 23))  # 20/18 .. 20/22 of the length
    return signal.resample_poly(y, 20, down) if down != 20 else y


def reverb(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A small room: an exponentially decaying noise impulse response (RT60 0.15-0.7 s), mixed wet."""
    response = decaying_noise(rng.uniform(0.15, 0.7), rng)
    response[0] = 1.0 / rng.uniform(0.3, 1.0)  # the direct sound, stronger nearer the microphone
    return wet_mix(y, response, rng.uniform(0.3, 0.9))


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
    return mix_at_snr(y, coloured_noise(len(y), colour, rng), snr_db)


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
