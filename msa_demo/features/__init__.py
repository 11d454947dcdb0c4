"""Per-modality features: text.py (MiniLM), audio.py (librosa), visual.py (MediaPipe)."""

from .spec import FEATURE_DIMS, FEATURE_SPEC, FEATURE_SPEC_ID, MODALITIES
from .types import FeatureBundle, ModalityFeatures

__all__ = [
    "FEATURE_DIMS",
    "FEATURE_SPEC",
    "FEATURE_SPEC_ID",
    "MODALITIES",
    "FeatureBundle",
    "ModalityFeatures",
]
