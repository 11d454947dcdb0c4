"""Small building blocks shared by the encoders and the six models, each safe under missing data:
an all-masked row gives finite zeros (pooling, softmax) or a finite placeholder (attention),
never NaN."""

from __future__ import annotations

import math

import torch
from torch import nn


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x [B, T, D] over steps where mask [B, T]; exactly zero for a row with none."""
    weights = mask.to(x.dtype).unsqueeze(-1)
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def masked_softmax(logits: torch.Tensor, allowed: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax over allowed entries; disallowed ones get exactly 0, a row with none allowed is all 0."""
    filled = logits.masked_fill(~allowed, float("-inf"))
    none = ~allowed.any(dim, keepdim=True)
    filled = filled.masked_fill(none, 0.0)
    return torch.softmax(filled, dim) * allowed.to(logits.dtype)


def attention_padding(mask: torch.Tensor) -> torch.Tensor:
    """key_padding_mask (True = ignore) for `mask` (True = observed).

    A row with no observed step would make the softmax NaN; there we let the first step be seen.
    Its input is zeros plus a position code, so the result does not depend on any masked value,
    and every consumer masks that row's outputs anyway.
    """
    padding = ~mask
    empty = ~mask.any(1)
    if empty.any():
        padding = padding.clone()
        padding[empty, 0] = False
    return padding


def sinusoidal_positions(length: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """[length, dim] fixed position code (Vaswani et al.); needs no maximum length."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    steps = torch.arange(0, dim, 2, device=device, dtype=torch.float32)
    freq = torch.exp(steps * (-math.log(10_000.0) / dim))
    code = torch.zeros(length, dim, device=device)
    code[:, 0::2] = torch.sin(position * freq)
    code[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return code


def mlp(d_in: int, d_hidden: int, d_out: int, dropout: float = 0.0) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(d_hidden, d_out))


class TransformerBlock(nn.Module):
    """Pre-norm self-attention + feed-forward with a padding mask; optionally returns the
    head-averaged attention weights [B, T, T] (for routing displays)."""

    def __init__(self, d: int, heads: int, dropout: float = 0.1, ff_mult: int = 2):
        super().__init__()
        self.norm_attn = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.norm_ff = nn.LayerNorm(d)
        self.ff = mlp(d, ff_mult * d, d, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.norm_attn(x)
        attended, weights = self.attn(h, h, h, key_padding_mask=attention_padding(mask),
                                      need_weights=need_weights)
        x = x + self.dropout(attended)
        x = x + self.dropout(self.ff(self.norm_ff(x)))
        return x, weights


class ScoreHead(nn.Module):
    """MLP -> valence, softly bounded to (-bound, bound) by bound * tanh(x / bound): slope 1 near 0,
    so it trains like a linear head, yet a display never shows a score off the scale."""

    def __init__(self, d_in: int, d_hidden: int, bound: float = 3.0, dropout: float = 0.0):
        super().__init__()
        self.net = mlp(d_in, d_hidden, 1, dropout)
        self.bound = bound

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.net(x).squeeze(-1)
        return self.bound * torch.tanh(raw / self.bound)
