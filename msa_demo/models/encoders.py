"""The per-modality encoders every model shares, so a comparison isolates each method's own idea.

Per modality: standardise with training statistics (buffers, saved in the state dict) -> zero the
unobserved steps -> (audio, when `audio_pool` > 1) masked chunk means; the voice arrives at 10 steps/s, so a 60 s clip is
600 steps -> linear projection to d + sinusoidal positions, zeroed at unobserved steps ->
depthwise conv (local context) ->
a small pre-norm Transformer with a padding mask -> LayerNorm -> masked mean.

The text encoder reads cached MiniLM token states (MiniLM stays frozen). Whatever an unobserved
step holds, it cannot change an observed output: its input is zeroed before anything reads it and
it is excluded as an attention key. An absent modality pools to exact zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..features.spec import FEATURE_DIMS, MODALITIES
from .layers import TransformerBlock, masked_mean, sinusoidal_positions

STD_FLOOR = 1e-2  # constant columns (e.g. face_present on observed frames) must not blow up


class Standardizer(nn.Module):
    """(x - mean) / std per feature; identity until `set_stats` is called with training statistics."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        mean = torch.as_tensor(mean, dtype=torch.float32)
        std = torch.as_tensor(std, dtype=torch.float32)
        if mean.shape != self.mean.shape or std.shape != self.std.shape:
            raise ValueError(f"stats of shape {tuple(mean.shape)}, expected {tuple(self.mean.shape)}")
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(STD_FLOOR))
        self.fitted.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


@dataclass
class Encoded:
    """One modality after its encoder.

    tokens [B, T', d]: finite everywhere, meaningful only where `mask`.
    mask [B, T'] bool: observed steps (after audio pooling: a chunk with any observed frame).
    pooled [B, d]: masked mean of tokens; exact zeros for a sample without the modality.
    inputs [B, T', D]: the standardised (and pooled) input the tokens were made from; zero where
        unobserved. DERL's reconstruction target.
    """

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor
    inputs: torch.Tensor


def chunk_mean(x: torch.Tensor, mask: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked mean over consecutive chunks of `size` steps: [B, T, D] -> [B, ceil(T/size), D]."""
    if size <= 1:
        return x, mask
    b, t, d = x.shape
    pad = (-t) % size
    if pad:
        x = torch.cat([x, x.new_zeros(b, pad, d)], 1)
        mask = torch.cat([mask, mask.new_zeros(b, pad)], 1)
    w = mask.to(x.dtype).view(b, -1, size, 1)
    pooled = (x.view(b, -1, size, d) * w).sum(2) / w.sum(2).clamp_min(1.0)
    return pooled, mask.view(b, -1, size).any(2)


class SequenceEncoder(nn.Module):
    def __init__(self, in_dim: int, d: int, layers: int, heads: int, dropout: float, pool: int = 1):
        super().__init__()
        self.standardize = Standardizer(in_dim)
        self.pool = pool
        self.project = nn.Linear(in_dim, d)
        self.local = nn.Conv1d(d, d, kernel_size=3, padding=1, groups=d)
        self.blocks = nn.ModuleList(TransformerBlock(d, heads, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.dropout = nn.Dropout(dropout)

    def prepare(self, values: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardise, zero the unobserved steps, pool: what the encoder (and DERL's decoder) sees."""
        x = self.standardize(values) * mask.unsqueeze(-1).to(values.dtype)
        return chunk_mean(x, mask, self.pool)

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> Encoded:
        inputs, mask = self.prepare(values, mask)
        d = self.project.out_features
        h = self.project(inputs) + sinusoidal_positions(inputs.shape[1], d, inputs.device)
        # zero every unobserved step before the convolution reads its neighbours: a padded step and
        # the end of the tensor then look alike, so a score never depends on the batch's padding
        h = h * mask.unsqueeze(-1).to(h.dtype)
        h = h + self.local(h.transpose(1, 2)).transpose(1, 2)
        h = self.dropout(h)
        for block in self.blocks:
            h, _ = block(h, mask)
        h = self.norm(h)
        return Encoded(tokens=h, mask=mask, pooled=masked_mean(h, mask), inputs=inputs)


class ModalityEncoders(nn.ModuleDict):
    """The three encoders (text, audio, visual) with the feature spec's input widths."""

    def __init__(self, d: int, layers: int, heads: int, dropout: float, audio_pool: int):
        super().__init__({
            m: SequenceEncoder(FEATURE_DIMS[m], d, layers, heads, dropout, audio_pool if m == "audio" else 1)
            for m in MODALITIES
        })

    def forward(self, batch) -> dict[str, Encoded]:
        return {m: self[m](batch.values(m), batch.observed(m)) for m in MODALITIES}

    def set_feature_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        for m, (mean, std) in stats.items():
            self[m].standardize.set_stats(mean, std)

    @property
    def fitted(self) -> bool:
        return all(bool(self[m].standardize.fitted) for m in MODALITIES)
