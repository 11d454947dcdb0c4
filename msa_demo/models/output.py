"""What every model returns: one contract, so the trainer, the explanation and the UI never branch on
the method."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ModelOutput:
    """score [B]: valence on the MOSI scale (-3..3, softly bounded by the head).

    unimodal {m: [B]}: per-modality predictions, only for models with unimodal heads. For a sample
        whose modality m is absent the value is the head's constant output; use `batch.available()`
        to decide what to show.
    routing {name: tensor [B, ...]}: gate / expert / importance weights, for display only.
    losses {name: scalar}: method-specific auxiliary losses, ALREADY WEIGHTED by the model's config
        (`model.cfg.w_<name>`). The trainer adds `sum(losses.values())` to its task loss on `score`.
        Filled only when losses are requested (default: in training mode).
    logs {name: scalar}: the same terms unweighted and detached, for logging.
    """

    score: torch.Tensor
    unimodal: dict[str, torch.Tensor] = field(default_factory=dict)
    routing: dict[str, torch.Tensor] = field(default_factory=dict)
    losses: dict[str, torch.Tensor] = field(default_factory=dict)
    logs: dict[str, torch.Tensor] = field(default_factory=dict)

    def add_loss(self, name: str, value: torch.Tensor, weight: float) -> None:
        self.losses[name] = weight * value
        self.logs[name] = value.detach()

    def aux_loss(self) -> torch.Tensor:
        """The sum of the weighted auxiliary losses (a zero scalar when there are none)."""
        total = self.score.new_zeros(())
        for value in self.losses.values():
            total = total + value
        return total
