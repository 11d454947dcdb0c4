"""The six sentiment models behind one registry and one contract (DESIGN.md, "Model interface").

    from msa_demo.models import collate, create_model, apply_missing
    model = create_model("derl")                       # list_models() for the names
    out = model(collate([{"text": feats}]))            # ModelOutput: score [B], unimodal, routing, losses

Importing this package registers every model.

Trainer contract (one training step):

    batch = collate(samples, labels=valence, domains=corpus_index)   # domains feed MIDG's IRM
    g = torch.Generator().manual_seed(seed)
    present = sample_modality_dropout(batch.present, 0.2, g)          # inter-modal missingness
    rates = sample_training_rates(len(batch), g)                       # LNLN intra-modal rates
    incomplete = apply_missing(batch, present=present, rate=rates, generator=g)
    out = model(incomplete)                   # incomplete.complete is batch: DERL reconstructs it
    loss = model.task_loss(out.score, incomplete.label).mean() + out.aux_loss()

Standardisation: `model.set_feature_stats(feature_stats(training_batches))` once before training;
the statistics are buffers and travel with the checkpoint. Loss weights are `model.cfg.w_*` and
may be changed between epochs (e.g. MISR's `w_invariance = 0` during warm-up).
"""

from . import derl, early_fusion, late_fusion, midg, misr, mmmie  # noqa: F401  (registration)
from .base import CommonConfig, MSAModel, count_parameters
from .batch import Batch, collate
from .checkpoint import (CheckpointError, FeatureSpecMismatch, copy_with_card, load_checkpoint,
                         read_card, save_checkpoint)
from .missing import apply_missing, sample_modality_dropout, sample_training_rates
from .normalisation import feature_stats
from .output import ModelOutput
from .registry import create_model, list_models, register_model

__all__ = [
    "Batch", "CheckpointError", "CommonConfig", "copy_with_card", "FeatureSpecMismatch", "MSAModel", "ModelOutput",
    "apply_missing", "collate", "count_parameters", "create_model", "feature_stats", "list_models",
    "load_checkpoint", "read_card", "register_model", "sample_modality_dropout",
    "sample_training_rates", "save_checkpoint",
]
