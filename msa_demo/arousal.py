"""How strongly: arousal read from the voice and from the face, beside the models' valence.

Valence from the voice alone is weak even with large corpora; arousal (calm vs. agitated) is what
acted speech teaches reliably across speakers and languages (Schuller et al. 2010; Eyben et al.
2016). So the voice gets a second, separate reading: P(high arousal) from clip-level statistics of
the same speaker-relative features the models read (mean, spread and the 10th/90th percentiles of
each descriptor over the speech), by a logistic regression trained on RAVDESS's actors
(`python -m training.train_arousal`); the face gets one from its mean expression, trained on FER2013.
It never enters the six models' valence score or their Shapley contributions: it is its own
reading, shown beside them, with the share of speech it was read from.

Weights: `checkpoints/arousal.safetensors` (+ its card `arousal.json`); without them, no arousal.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Mapping

import numpy as np

from .corpora.labels import AROUSAL
from .features.spec import FEATURE_SPEC_ID
from .features.types import ModalityFeatures
from .features.voice_reference import LOG_F0, PYIN_VOICED, VOICED_ONLY, VOICED_SHARE

CHECKPOINT = Path(__file__).resolve().parents[1] / "checkpoints" / "arousal.safetensors"
MODALITIES = ("audio", "visual")
MIN_STEPS = 5  # fewer observed steps than this (half a second of speech, five frames) say nothing
_lock = threading.Lock()
_loaded: dict[str, object] = {}


def clip_statistics(features: ModalityFeatures, modality: str) -> np.ndarray | None:
    """The fixed-length summary the arousal reader sees; None when too little was observed.

    Voice: per column mean, std, 10th and 90th percentile over the speech steps (the voiced-only
    columns over voiced steps; 0 when there are none). Face: the mean over frames with a face (a
    FER2013 still is one frame, so its spread would mean nothing)."""
    if features is None or not features.present:
        return None
    rows = features.values[features.mask]
    if len(rows) < (MIN_STEPS if modality == "audio" else 1):
        return None
    if modality == "visual":
        return rows.mean(0).astype(np.float64)
    out = []
    voiced_e, voiced_p = rows[:, VOICED_SHARE] > 0, rows[:, PYIN_VOICED] > 0.5
    for j in range(rows.shape[1]):
        take = (voiced_p if j == LOG_F0 else voiced_e) if VOICED_ONLY[j] else slice(None)
        v = rows[take, j]
        out += [v.mean(), v.std(), np.percentile(v, 10), np.percentile(v, 90)] if len(v) else [0.0] * 4
    return np.asarray(out, np.float64)


class ArousalReader:
    """A logistic regression per modality on `clip_statistics`, standardised with training statistics."""

    def __init__(self, weights: Mapping[str, np.ndarray], card: dict):
        self.weights = {k: np.asarray(v, np.float64) for k, v in weights.items()}
        self.card = card
        self.modalities = [m for m in MODALITIES if f"{m}.coef" in self.weights]

    @classmethod
    def load(cls, path: Path = CHECKPOINT) -> "ArousalReader | None":
        """The shipped reader, or None when its files are absent or of another feature spec."""
        from safetensors.numpy import load_file

        card_path = path.with_suffix(".json")
        if not path.is_file() or not card_path.is_file():
            return None
        card = json.loads(card_path.read_text())
        if card.get("feature_spec_id") != FEATURE_SPEC_ID:
            return None
        return cls(load_file(str(path)), card)

    def probability(self, stats: np.ndarray, modality: str) -> float:
        w = self.weights
        z = (stats - w[f"{modality}.mean"]) / w[f"{modality}.std"]
        return float(1.0 / (1.0 + np.exp(-(z @ w[f"{modality}.coef"] + w[f"{modality}.bias"][0]))))

    def read(self, features: Mapping[str, ModalityFeatures]) -> dict:
        """{"voice": {...} | None, "face": {...} | None}: P(high), the label, what it was read from."""
        out = {}
        for modality, name in (("audio", "voice"), ("visual", "face")):
            stats = clip_statistics(features.get(modality), modality) if modality in self.modalities else None
            if stats is None:
                out[name] = None
                continue
            p = self.probability(stats, modality)
            steps = int(np.asarray(features[modality].mask).sum())
            out[name] = {"high": p, "label": AROUSAL[int(p >= 0.5)], "steps": steps,
                         "trained_on": self.card["modalities"][modality]["corpus"]}
        return out


def default_reader() -> ArousalReader | None:
    """The shipped reader, loaded once per process."""
    with _lock:
        if "reader" not in _loaded:
            _loaded["reader"] = ArousalReader.load()
        return _loaded["reader"]  # type: ignore[return-value]


def read_arousal(features) -> dict:
    """The "arousal" entry of the analysis JSON ({} without shipped weights)."""
    reader = default_reader()
    if reader is None:
        return {}
    if not isinstance(features, Mapping):  # a FeatureBundle
        features = {m: features.modality(m) for m in MODALITIES}
    return reader.read(features)
