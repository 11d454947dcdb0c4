"""openSMILE's eGeMAPS v02 low-level descriptors: how the voice sounds, not what it says.

eGeMAPS (Eyben et al. 2016) is the field's minimal acoustic set for affect: 25 descriptors every
10 ms — loudness, spectral balance (alpha ratio, Hammarberg index, slopes), spectral flux, MFCC 1-4,
and on voiced frames F0 in semitones, jitter, shimmer, harmonics-to-noise, harmonic differences and
the first three formants. None of them can spell a word: Whisper's encoder states could (the voice
of spec v2 learnt RAVDESS's two sentences, reports/guard_reliability.md "other words").

openSMILE is C++ (the `opensmile` wheel carries it; nothing is downloaded): ~60 ms for a 3 s clip
on one core. One extractor per thread, since the app reads several voices at once.
"""

from __future__ import annotations

import threading

import numpy as np

from .spec import EGEMAPS_NAMES, SAMPLE_RATE

LLD_HOP = 0.01  # seconds between eGeMAPS frames
_local = threading.local()


def _smile():
    smile = getattr(_local, "smile", None)
    if smile is None:
        import opensmile

        smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
        if list(smile.feature_names) != EGEMAPS_NAMES:
            raise RuntimeError(f"opensmile's eGeMAPSv02 names changed: {smile.feature_names}")
        _local.smile = smile
    return smile


def egemaps_lld(samples: np.ndarray) -> np.ndarray:
    """[10 ms frames, 25] eGeMAPS v02 LLDs of 16 kHz mono audio (frame k starts at k * 10 ms).
    The voiced-only descriptors (`*_sma3nz`) are 0 on unvoiced frames, as openSMILE writes them
    (the formant amplitudes −201)."""
    y = np.ascontiguousarray(samples, dtype=np.float32)
    if len(y) < int(0.06 * SAMPLE_RATE):  # shorter than the F0 window: no frame at all
        return np.zeros((0, len(EGEMAPS_NAMES)), np.float32)
    values = _smile().process_signal(y, SAMPLE_RATE).to_numpy(np.float32)
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
