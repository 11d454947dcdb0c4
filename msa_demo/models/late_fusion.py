"""Late fusion: the yardstick for "does fusing at all help".

Built: each modality is encoded and pooled (shared encoders), scored by its own head, and the
scores of the available modalities are averaged with learned modality weights (a softmax over the
available ones). An absent modality gets weight exactly 0. No method-specific losses; the task
loss on the fused score trains every head.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..features.spec import MODALITIES
from .base import CommonConfig, MSAModel
from .batch import Batch
from .layers import ScoreHead, masked_softmax
from .output import ModelOutput
from .registry import register_model


@register_model("late_fusion")
class LateFusion(MSAModel):
    @dataclass
    class Config(CommonConfig):
        pass

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.heads = nn.ModuleDict(
            {m: ScoreHead(cfg.d, cfg.d, cfg.output_bound, cfg.dropout) for m in MODALITIES})
        self.modality_logits = nn.Parameter(torch.zeros(len(MODALITIES)))

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:
        encoded = self.encoders(batch)
        unimodal = {m: self.heads[m](encoded[m].pooled) for m in MODALITIES}
        scores = torch.stack([unimodal[m] for m in MODALITIES], 1)
        available = batch.available()
        weights = masked_softmax(self.modality_logits.expand_as(scores), available)
        return ModelOutput(score=(weights * scores).sum(1), unimodal=unimodal,
                           routing={"modality_weights": weights})
