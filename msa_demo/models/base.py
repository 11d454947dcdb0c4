"""What the six models share: the common config, the shared encoders, standardisation statistics
and the rule for when auxiliary losses are computed."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .batch import Batch
from .encoders import ModalityEncoders
from .objectives import regression_loss
from .output import ModelOutput


@dataclass
class CommonConfig:
    d: int = 64  # width of every representation (64, not 128: about half the CPU time per step)
    heads: int = 4
    encoder_layers: int = 1  # Transformer blocks per modality encoder
    dropout: float = 0.1
    audio_pool: int = 1  # the voice is 10 steps/s already (features/audio.py pools Whisper's 50/s)
    output_bound: float = 3.0  # the score head saturates softly at +-output_bound
    task_loss: str = "l1"  # the loss label-dependent auxiliary terms use; the trainer should match


class MSAModel(nn.Module):
    """Base of the six models. Subclasses define `Config` and `forward(batch, with_losses=None)`.

    Auxiliary losses are computed when `with_losses` is True, or — when it is None — in training
    mode; label-dependent ones only when `batch.label` is given.
    """

    Config = CommonConfig
    model_name = "base"

    def __init__(self, cfg: CommonConfig):
        super().__init__()
        self.cfg = cfg
        self.encoders = ModalityEncoders(cfg.d, cfg.encoder_layers, cfg.heads, cfg.dropout, cfg.audio_pool)

    def config_dict(self) -> dict:
        return asdict(self.cfg)

    def set_feature_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Standardisation statistics from training data (see normalisation.feature_stats)."""
        self.encoders.set_feature_stats(stats)

    @property
    def stats_fitted(self) -> bool:
        return self.encoders.fitted

    def task_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Elementwise [B] task loss of this model's config (the trainer may reuse it)."""
        return regression_loss(pred, target, self.cfg.task_loss)

    def start_epoch(self, epoch: int) -> None:
        """Called by the trainer before each training epoch, for schedules a method documents
        (MISR's invariance warm-up); most models have none."""

    def wants_losses(self, with_losses: bool | None) -> bool:
        return self.training if with_losses is None else with_losses

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:  # pragma: no cover
        raise NotImplementedError


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
