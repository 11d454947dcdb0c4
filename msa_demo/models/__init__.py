"""The six sentiment models behind one registry and one contract (DESIGN.md, "Model interface").

    from msa_demo.models import collate, create_model, apply_missing
    model = create_model("derl")                       # list_models() for the names
    out = model(collate([{"text": feats}]))            # ModelOutput: score [B], unimodal, routing, losses

Importing this package registers every model.
"""

from . import derl, early_fusion, late_fusion, midg, misr, mmmie  # noqa: F401  (registration)
from .base import CommonConfig, MSAModel, count_parameters
from .batch import Batch, collate
from .checkpoint import (CheckpointError, FeatureSpecMismatch, load_checkpoint, read_card,
                         save_checkpoint)
from .missing import apply_missing, sample_modality_dropout, sample_training_rates
from .normalisation import feature_stats
from .output import ModelOutput
from .registry import create_model, list_models, register_model

__all__ = [
    "Batch", "CheckpointError", "CommonConfig", "FeatureSpecMismatch", "MSAModel", "ModelOutput",
    "apply_missing", "collate", "count_parameters", "create_model", "feature_stats", "list_models",
    "load_checkpoint", "read_card", "register_model", "sample_modality_dropout",
    "sample_training_rates", "save_checkpoint",
]
