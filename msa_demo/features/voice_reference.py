"""The speaker's own baseline: what the voice features are measured against.

Pitch, loudness, formants and the spectrum's balance say first who is speaking and into which
microphone (a man's F0 is half a child's; a laptop's gain is 20 dB off a studio's), and only then
how. Cross-corpus speech-emotion work normalises them per speaker (e.g. Schuller et al. 2010;
Busso et al. 2011); here each RELATIVE_NAMES column is its value minus the speaker's median.

Whose median: a `VoiceReference` — by default the recording itself (one upload, one API call: no
state, the same for every user). Training measures every RAVDESS actor against the median of all
their recordings (`training/speaker_references.py`), and about half of the training voices against
themselves, so a model knows both. The Live tab measures each recording against the running median of
the session's speech so far (`combine`), which tends to the speaker's own baseline as they go on.

A reference holds only medians (one number a column, no audio); nothing of a user is kept beyond
the session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .spec import AUDIO_FEATURE_NAMES, EGEMAPS_NAMES, EGEMAPS_VOICED_FROM, RELATIVE_NAMES

RELATIVE = np.array([n in RELATIVE_NAMES for n in AUDIO_FEATURE_NAMES])
# columns defined on voiced frames only (openSMILE's *_sma3nz) and the pyin log-F0
VOICED_ONLY = np.array([(n in EGEMAPS_NAMES and EGEMAPS_NAMES.index(n) >= EGEMAPS_VOICED_FROM) or n == "log_f0"
                        for n in AUDIO_FEATURE_NAMES])
VOICED_SHARE = AUDIO_FEATURE_NAMES.index("voiced_share")
PYIN_VOICED = AUDIO_FEATURE_NAMES.index("voiced")
LOG_F0 = AUDIO_FEATURE_NAMES.index("log_f0")


@dataclass(frozen=True)
class VoiceReference:
    """Per-column medians of a speaker's raw voice steps (NaN where never measured) and how many
    steps each median was taken over."""

    median: np.ndarray  # [AUDIO_DIM] float64; NaN outside RELATIVE or where no step was seen
    steps: np.ndarray  # [AUDIO_DIM] int

    def to_json(self) -> dict:
        return {"median": [None if not np.isfinite(v) else float(v) for v in self.median],
                "steps": [int(n) for n in self.steps]}

    @classmethod
    def from_json(cls, data: dict) -> "VoiceReference":
        median = np.array([np.nan if v is None else v for v in data["median"]], np.float64)
        return cls(median, np.asarray(data["steps"], int))


def _voiced_rows(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[T, D] bool: the steps each column's median is taken over."""
    rows = np.repeat(mask[:, None], values.shape[1], axis=1)
    voiced_egemaps = values[:, VOICED_SHARE] > 0
    voiced_pyin = values[:, PYIN_VOICED] > 0.5
    for j in np.flatnonzero(VOICED_ONLY):
        rows[:, j] &= voiced_pyin if j == LOG_F0 else voiced_egemaps
    return rows


def reference_of(values: np.ndarray, mask: np.ndarray) -> VoiceReference:
    """The reference a raw [T, AUDIO_DIM] recording gives (its speech steps: `mask`)."""
    rows = _voiced_rows(values, mask)
    median = np.full(values.shape[1], np.nan)
    steps = rows.sum(0) * RELATIVE
    for j in np.flatnonzero(RELATIVE & (steps > 0)):
        median[j] = float(np.median(values[rows[:, j], j]))
    return VoiceReference(median, steps.astype(int))


def combine(references: list[VoiceReference]) -> VoiceReference | None:
    """One reference from several recordings of a speaker: per column, the mean of their medians
    weighted by their steps (a running baseline keeps only this, never the audio)."""
    refs = [r for r in references if r is not None]
    if not refs:
        return None
    steps = np.stack([r.steps for r in refs])
    medians = np.stack([np.nan_to_num(r.median) for r in refs])
    total = steps.sum(0)
    median = np.where(total > 0, (medians * steps).sum(0) / np.maximum(total, 1), np.nan)
    return VoiceReference(median, total)


def relative_to(values: np.ndarray, mask: np.ndarray, reference: VoiceReference) -> np.ndarray:
    """Raw steps -> speaker-relative steps: RELATIVE columns minus the reference's medians; a step
    where a voiced-only column was not measured holds 0 there (the speaker's median). Columns the
    reference has no median for keep 0 too (a voice with no voiced step at all)."""
    out = np.array(values, dtype=np.float32, copy=True)
    rows = _voiced_rows(values, np.ones(len(values), bool))
    for j in np.flatnonzero(RELATIVE):
        base = reference.median[j]
        known = rows[:, j] if VOICED_ONLY[j] else np.ones(len(values), bool)
        out[:, j] = np.where(known & np.isfinite(base), values[:, j] - (base if np.isfinite(base) else 0.0), 0.0)
    out[~mask] = 0.0
    return out
