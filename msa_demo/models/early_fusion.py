"""Early (feature-level) fusion: the yardstick for "does a method's idea beat plain concatenation".

Built: the pooled representations of the three shared encoders are concatenated with the
availability flags ([h_t; h_a; h_v; present], absent modalities are exact zeros) and one MLP
predicts the score. Choice: the streams are unaligned (tokens, 10 and 50 fps), so frame-level
concatenation as in MMSA's EF-LSTM would need forced alignment; "early" here means one joint
predictor over all modalities, against late fusion's averaged per-modality predictions.
No method-specific losses.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..features.spec import MODALITIES
from .base import CommonConfig, MSAModel
from .batch import Batch
from .layers import ScoreHead
from .output import ModelOutput
from .registry import register_model


@register_model("early_fusion")
class EarlyFusion(MSAModel):
    @dataclass
    class Config(CommonConfig):
        pass

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.head = ScoreHead(len(MODALITIES) * (cfg.d + 1), cfg.d, cfg.output_bound, cfg.dropout)

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:
        encoded = self.encoders(batch)
        available = batch.available().float()
        joint = torch.cat([encoded[m].pooled for m in MODALITIES] + [available], 1)
        return ModelOutput(score=self.head(joint))
