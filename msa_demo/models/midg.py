"""MIDG — Mixture of Invariant Experts with knowledge injection for Domain Generalization in MSA
(Li, Luo, Hu; arXiv 2512.07430).

The paper claims (abstract only): a Mixture of Invariant Experts extracts domain-invariant
features while capturing inter-modal synergy, and a Cross-Modal Adapter injects cross-modal
knowledge into the representation; evaluated across three datasets (likely MOSI/MOSEI/SIMS).

What we built (METHODS.md §2.3):
- Cross-modal adapters: one bottleneck adapter per modality stream (LayerNorm -> down to r ->
  cross-attention over the OTHER modalities' tokens -> GELU -> up to d, zero-initialised, residual),
  so each stream starts as the plain encoder and learns to pull in the others. Attention has a
  "nothing" slot (add_zero_attn), so a stream whose partners are absent attends to nothing.
- Mixture of invariant experts on the fused token (pooled streams + availability flags): K MLP
  experts, softmax router, top-k routing, Switch-style load balancing (`balance`), residual.
- Invariance where the method puts it, on the experts: IRMv1 across source corpora on each expert's
  own score (head(fused + expert_k(fused)), `irm`, averaged over experts), so every expert must be
  a predictor that is optimal in every corpus at once; and a routing-invariance term (`route_inv`,
  the spread of the per-corpus mean router distributions), so experts are not split by corpus.
  Without it the router learnt domain-specific experts (face-only FER stills -> one expert at
  0.92-0.94, text/audio -> another): the opposite of invariant ones. Both need `batch.domain`.

Where we chose (paper body unavailable): adapters sit after our shared encoders, not inside BERT
(MiniLM states are cached and frozen); IRMv1 rather than adversarial / CORAL (same code as MISR);
routing invariance as a variance penalty is ours.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..features.spec import MODALITIES
from .base import CommonConfig, MSAModel
from .batch import Batch
from .layers import ScoreHead, masked_mean, mlp
from .objectives import domain_environments, irm_penalty, load_balance_loss
from .output import ModelOutput
from .registry import register_model


class CrossModalAdapter(nn.Module):
    """Bottleneck adapter that injects context tokens (other modalities) into a stream."""

    def __init__(self, d: int, bottleneck: int, heads: int, dropout: float):
        super().__init__()
        self.norm_query = nn.LayerNorm(d)
        self.norm_context = nn.LayerNorm(d)
        self.down = nn.Linear(d, bottleneck)
        self.down_context = nn.Linear(d, bottleneck)
        self.attn = nn.MultiheadAttention(bottleneck, heads, dropout=dropout, batch_first=True,
                                          add_zero_attn=True)
        self.up = nn.Linear(bottleneck, d)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor,
                context_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, T, d], context [B, S, d], context_mask [B, S] -> (x', attention [B, T, S + 1]);
        the last attention column is the "nothing" slot."""
        query = self.down(self.norm_query(x))
        context = self.down_context(self.norm_context(context))
        injected, weights = self.attn(query, context, context, key_padding_mask=~context_mask,
                                      need_weights=True)
        return x + self.up(F.gelu(query + injected)), weights


@register_model("midg")
class MIDG(MSAModel):
    @dataclass
    class Config(CommonConfig):
        experts: int = 4
        top_k: int = 2
        adapter_dim: int = 32
        adapter_heads: int = 4
        w_balance: float = 0.01
        w_irm: float = 0.1
        w_route_inv: float = 0.1

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        if not 1 <= cfg.top_k <= cfg.experts:
            raise ValueError(f"top_k must lie in 1..experts, got {cfg.top_k} of {cfg.experts}")
        d = cfg.d
        self.adapters = nn.ModuleDict(
            {m: CrossModalAdapter(d, cfg.adapter_dim, cfg.adapter_heads, cfg.dropout) for m in MODALITIES})
        self.fuse = nn.Sequential(nn.Linear(len(MODALITIES) * (d + 1), d), nn.GELU(), nn.LayerNorm(d))
        self.router = nn.Linear(d, cfg.experts)
        self.experts = nn.ModuleList(mlp(d, d, d, cfg.dropout) for _ in range(cfg.experts))
        self.head = ScoreHead(d, d, cfg.output_bound, cfg.dropout)

    def inject(self, encoded) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Each stream after its cross-modal adapter, pooled [B, d]; and the attention share of each
        stream (rows t, a, v) on each source (columns t, a, v, nothing) [B, 3, 4]."""
        pooled, shares = {}, []
        for i, m in enumerate(MODALITIES):
            others = [o for o in MODALITIES if o != m]
            context = torch.cat([encoded[o].tokens for o in others], 1)
            context_mask = torch.cat([encoded[o].mask for o in others], 1)
            tokens, attn = self.adapters[m](encoded[m].tokens, context, context_mask)
            mask = encoded[m].mask
            pooled[m] = masked_mean(tokens, mask)
            per_query = []
            start = 0
            for o in MODALITIES:
                if o == m:
                    per_query.append(attn.new_zeros(attn.shape[:2]))
                    continue
                length = encoded[o].tokens.shape[1]
                per_query.append(attn[:, :, start:start + length].sum(-1))
                start += length
            per_query.append(attn[:, :, -1])
            shares.append(masked_mean(torch.stack(per_query, -1), mask))
        return pooled, torch.stack(shares, 1)

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:
        cfg = self.cfg
        encoded = self.encoders(batch)
        pooled, adapter_attention = self.inject(encoded)
        available = batch.available()
        fused = self.fuse(torch.cat([pooled[m] for m in MODALITIES] + [available.float()], 1))

        probs = torch.softmax(self.router(fused), -1)
        top = torch.zeros_like(probs).scatter_(1, probs.topk(cfg.top_k, -1).indices, 1.0)
        gates = probs * top
        gates = gates / gates.sum(-1, keepdim=True).clamp_min(1e-8)
        expert_out = torch.stack([expert(fused) for expert in self.experts], 1)  # [B, K, d]
        mixed = fused + (gates.unsqueeze(-1) * expert_out).sum(1)
        score = self.head(mixed)

        out = ModelOutput(score=score, routing={
            "expert_gates": gates, "router_probs": probs, "adapter_attention": adapter_attention})
        if self.wants_losses(with_losses):
            out.add_loss("balance", load_balance_loss(probs, top, available.any(1)), cfg.w_balance)
            if batch.domain is not None:
                environments = [env & available.any(1) for env in domain_environments(batch.domain)]
                out.add_loss("route_inv", routing_spread(probs, environments), cfg.w_route_inv)
                if batch.label is not None:
                    per_expert = [irm_penalty(self.head(fused + expert_out[:, k]), batch.label, environments,
                                              cfg.task_loss) for k in range(cfg.experts)]
                    out.add_loss("irm", torch.stack(per_expert).mean(), cfg.w_irm)
        return out


def routing_spread(probs: torch.Tensor, environments: list[torch.Tensor], min_rows: int = 4) -> torch.Tensor:
    """K x mean over environments of ||mean router distribution of the environment - their mean||^2:
    0 when every corpus is routed alike (environments with fewer than `min_rows` rows are skipped)."""
    means = [probs[rows].mean(0) for rows in environments if int(rows.sum()) >= min_rows]
    if len(means) < 2:
        return probs.new_zeros(())
    stacked = torch.stack(means)
    return probs.shape[-1] * (stacked - stacked.mean(0)).pow(2).sum(-1).mean()
