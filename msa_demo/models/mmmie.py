"""MMMIE — MI Maximization and Minimization and Identity Embedding for MSA
(Zheng, Zhang, Wang, Zeng; arXiv 2201.03969).

The paper claims (abstract only): maximising mutual information between modality pairs and
minimising it between input data and the corresponding features mines modality-invariant,
task-related information; an Identity Embedding lets the downstream network perceive contextual
information. Two public datasets (likely MOSI and MOSEI).

What we built (METHODS.md §5.3):
- Variational information bottleneck per token: each encoder state becomes a Gaussian
  (mu, logvar) and a sample z (the mean in eval). `mi_min` = KL(q(z|x) || N(0, I)) averaged over
  observed tokens, an upper bound on I(X_m; Z_m).
- `mi_max`: symmetric InfoNCE between the pooled mu of each modality pair (t,a), (t,v), (a,v),
  in-batch negatives, over samples that have both modalities.
- Identity embeddings: a learned vector per modality added to each of its tokens (like BERT
  token-type embeddings; positions come from the shared encoders), then ONE joint cross-modal
  Transformer over [fusion token; text; audio; visual] with a padding mask. The score is read
  from the fusion token. Routing shows the fusion token's attention share per modality in the
  last layer.

Where we chose (paper body unavailable): InfoNCE (not MMILB) for MI maximisation; a variational
bottleneck (not CLUB, which needs MMIM's second optimiser) for MI minimisation; the fusion token
readout. Loss weights: `w_mi_max` 0.1 as MMIM's alpha; `w_mi_min` 1e-3, the usual VIB beta, because
the KL is summed over the d (default 64) dimensions of each token.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import torch
from torch import nn

from ..features.spec import MODALITIES
from .base import CommonConfig, MSAModel
from .batch import Batch
from .layers import ScoreHead, TransformerBlock, masked_mean
from .objectives import info_nce, kl_standard_normal
from .output import ModelOutput
from .registry import register_model

LOGVAR_RANGE = (-8.0, 8.0)


@register_model("mmmie")
class MMMIE(MSAModel):
    @dataclass
    class Config(CommonConfig):
        fusion_layers: int = 2
        identity_embedding: bool = True  # False gives the ablation without it
        temperature: float = 0.1
        w_mi_max: float = 0.1
        w_mi_min: float = 1e-3

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        d = cfg.d
        self.bottleneck = nn.ModuleDict({m: nn.Linear(d, 2 * d) for m in MODALITIES})
        self.identity = nn.Parameter(torch.randn(len(MODALITIES), d) * 0.02)
        self.fusion_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.blocks = nn.ModuleList(
            TransformerBlock(d, cfg.heads, cfg.dropout) for _ in range(cfg.fusion_layers))
        self.norm = nn.LayerNorm(d)
        self.projections = nn.ModuleDict({m: nn.Linear(d, d) for m in MODALITIES})
        self.head = ScoreHead(d, d, cfg.output_bound, cfg.dropout)

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:
        cfg = self.cfg
        encoded = self.encoders(batch)
        available = batch.available()
        n = len(batch)
        tokens, masks = [self.fusion_token.expand(n, -1, -1)], [available.new_ones(n, 1)]
        kl_terms, pooled_mu = [], {}
        for i, m in enumerate(MODALITIES):
            mu, logvar = self.bottleneck[m](encoded[m].tokens).chunk(2, -1)
            logvar = logvar.clamp(*LOGVAR_RANGE)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            if cfg.identity_embedding:
                z = z + self.identity[i]
            tokens.append(z)
            masks.append(encoded[m].mask)
            pooled_mu[m] = masked_mean(mu, encoded[m].mask)
            kl_terms.append((kl_standard_normal(mu, logvar), encoded[m].mask))

        sequence, mask = torch.cat(tokens, 1), torch.cat(masks, 1)
        attention = None
        for k, block in enumerate(self.blocks):
            sequence, attention = block(sequence, mask, need_weights=k == len(self.blocks) - 1)
        score = self.head(self.norm(sequence[:, 0]))
        out = ModelOutput(score=score, routing={"fusion_attention": self._modality_shares(attention, masks)})

        if self.wants_losses(with_losses):
            steps = sum(int(m.sum()) for _, m in kl_terms)
            kl = sum((value * m).sum() for value, m in kl_terms) / max(steps, 1)
            out.add_loss("mi_min", kl, cfg.w_mi_min)
            pairs = [info_nce(self.projections[a](pooled_mu[a]), self.projections[b](pooled_mu[b]),
                              available[:, i] & available[:, j], cfg.temperature)
                     for (i, a), (j, b) in combinations(enumerate(MODALITIES), 2)]
            out.add_loss("mi_max", torch.stack(pairs).mean(), cfg.w_mi_max)
        return out

    @staticmethod
    def _modality_shares(attention: torch.Tensor | None, masks: list[torch.Tensor]) -> torch.Tensor:
        """The fusion token's last-layer attention mass on each modality, renormalised over the
        modalities ([B, 3], zeros for a sample with none)."""
        if attention is None:  # fusion_layers == 0
            return torch.zeros(masks[0].shape[0], len(MODALITIES), device=masks[0].device)
        row = attention[:, 0]  # [B, S]
        shares, start = [], masks[0].shape[1]
        for mask in masks[1:]:
            length = mask.shape[1]
            shares.append((row[:, start:start + length] * mask).sum(-1))
            start += length
        shares = torch.stack(shares, 1)
        return shares / shares.sum(1, keepdim=True).clamp_min(1e-8)
