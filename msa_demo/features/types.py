"""The containers that carry features from the extractors to the models and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .spec import FEATURE_DIMS, FEATURE_SPEC_ID, MODALITIES


@dataclass
class ModalityFeatures:
    """One modality of one input.

    values [T, D] float32; mask [T] bool (True = observed: a real token, an audio frame, a frame
    with a face); times [T, 2] float32 (start, end) in seconds, NaN where unknown (typed text).
    `present` False means the whole modality is off; then T may be 0.
    """

    values: np.ndarray
    mask: np.ndarray
    times: np.ndarray
    present: bool = True

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float32)
        self.mask = np.asarray(self.mask, dtype=bool)
        self.times = np.asarray(self.times, dtype=np.float32).reshape(-1, 2)
        n = len(self.values)
        if self.values.ndim != 2 or len(self.mask) != n or len(self.times) != n:
            raise ValueError(
                f"inconsistent shapes: values {self.values.shape}, mask {self.mask.shape}, "
                f"times {self.times.shape}"
            )

    @classmethod
    def absent(cls, dim: int) -> "ModalityFeatures":
        return cls(np.zeros((0, dim)), np.zeros(0, bool), np.zeros((0, 2)), present=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.values.shape)  # type: ignore[return-value]

    @property
    def coverage(self) -> float:
        """Fraction of steps that are observed (0.0 when there are none)."""
        return float(self.mask.mean()) if len(self.mask) else 0.0


@dataclass
class FeatureBundle:
    """Everything the models and the explanation need about one input, and what went wrong."""

    text: ModalityFeatures
    audio: ModalityFeatures
    visual: ModalityFeatures
    transcript: "object | None" = None  # msa_demo.asr.Transcript
    duration: float = 0.0
    voiced_fraction: float = 0.0
    face_fraction: float = 0.0
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    keyframe: np.ndarray | None = None  # RGB frame where the face was found most clearly
    keyframe_landmarks: np.ndarray | None = None  # [478, 3] normalised x, y, z
    voice: "object | None" = None  # features.audio.Voice: raw steps + own reference (re-basing)
    spec_id: str = FEATURE_SPEC_ID

    def modality(self, name: str) -> ModalityFeatures:
        return getattr(self, name)

    @property
    def present(self) -> dict[str, bool]:
        return {m: self.modality(m).present for m in MODALITIES}

    def summary(self) -> dict:
        """The JSON the CLI prints (and the placeholder UI shows)."""
        transcript = self.transcript
        out = {
            m: {"shape": list(self.modality(m).shape), "present": self.modality(m).present}
            for m in MODALITIES
        }
        out["audio"]["voiced_fraction"] = round(self.voiced_fraction, 4)
        out["visual"]["face_fraction"] = round(self.face_fraction, 4)
        out.update(
            transcript=getattr(transcript, "text", "") or "",
            transcript_source=getattr(transcript, "source", "none"),
            language=getattr(transcript, "language", None),
            words=len(getattr(transcript, "words", []) or []),
            duration=round(self.duration, 3),
            notices=list(self.notices),
            timings={k: round(v, 4) for k, v in self.timings.items()},
            feature_spec=self.spec_id,
        )
        return out


def check_dims(bundle: FeatureBundle) -> None:
    """Raise if an extractor produced the wrong width (a bug, never user error)."""
    for m in MODALITIES:
        feats = bundle.modality(m)
        if feats.values.shape[1] != FEATURE_DIMS[m]:
            raise AssertionError(f"{m} features have width {feats.values.shape[1]}")
