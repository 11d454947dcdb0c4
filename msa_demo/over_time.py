"""Sentiment over time: the clip in sliding windows (3 s, hop 1 s), each scored and explained alone
from the cached features (nothing is re-extracted), so one sees *when* the sentiment turns.

A window holds the voice and face steps whose middle lies in it and the words spoken in it (with the
text model's [CLS]/[SEP]); the text states are the ones of the whole sentence (MiniLM read the words
in context), only fewer of them. Typed text has no times: the whole text is in every window, and the
change from window to window is then the voice's and the face's. Each window is explained as a full
analysis explains it (exact Shapley, the OOD guard), so baseline + contributions = score holds per
window too; all windows go through the model in one batched pass (analysis.explained_scores).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from .analysis import DEFAULT, explained_scores
from .features.spec import MODALITIES
from .features.types import ModalityFeatures

WINDOW, HOP = 3.0, 1.0


def windows(duration: float, window: float = WINDOW, hop: float = HOP) -> list[tuple[float, float]]:
    """[(start, end)] covering [0, duration]; one window (the whole input) when it is shorter."""
    if not duration or duration <= 0:
        return []
    if duration <= window:
        return [(0.0, float(duration))]
    count = math.ceil((duration - window) / hop - 1e-9) + 1
    return [(k * hop, min(k * hop + window, float(duration))) for k in range(count)]


def duration_of(features: Mapping[str, ModalityFeatures], duration: float = 0.0) -> float:
    """The input's length: the media's, else the last timed step's end (a cached corpus item)."""
    if duration:
        return float(duration)
    ends = [f.times[:, 1][np.isfinite(f.times[:, 1])] for f in features.values()
            if f is not None and f.present]
    ends = [e.max() for e in ends if len(e)]
    return float(max(ends)) if ends else 0.0


def window_features(features: Mapping[str, ModalityFeatures], start: float,
                    end: float) -> dict[str, ModalityFeatures]:
    """The steps of each modality that fall in [start, end) (see the module docstring for text)."""
    out = {}
    for m in MODALITIES:
        f = features.get(m)
        if f is None or not f.present or not len(f.values):
            continue
        keep = _in_window(f.times, start, end, m == "text")
        if keep.any():
            out[m] = ModalityFeatures(f.values[keep], f.mask[keep], f.times[keep],
                                      present=bool(f.mask[keep].any()))
    return out


def _in_window(times: np.ndarray, start: float, end: float, text: bool) -> np.ndarray:
    timed = np.isfinite(times).all(axis=1)
    if text and not timed.any():
        return np.ones(len(times), bool)  # typed: no times, the whole text everywhere
    middle = times.mean(axis=1)
    inside = timed & (middle >= start) & (middle < end)
    if text and inside.any():
        inside |= ~timed  # [CLS] and [SEP] go with any words
    return inside


def over_time(features: Mapping[str, ModalityFeatures], model, duration: float = 0.0, *,
              window: float = WINDOW, hop: float = HOP, guard=DEFAULT) -> list[dict]:
    """[{"start", "end", "score", "baseline", "contributions"}] per window (>= 1 for any input with a
    duration; [] for typed text alone)."""
    spans = windows(duration_of(features, duration), window, hop)
    scored = explained_scores([window_features(features, start, end) for start, end in spans], model,
                              guard=guard)
    return [{"start": start, "end": end, **r} for (start, end), r in zip(spans, scored)]
