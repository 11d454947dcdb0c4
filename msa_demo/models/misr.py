"""MISR — Multimodal Invariant Sentiment Representation learning (Zhu et al., Findings of ACL 2025).

The paper claims (abstract only): sentiment-distribution imbalance and cross-modal sentiment
conflicts can be used to learn stable invariant representations: a consistent multimodal joint
representation in a Gaussian latent space under distributional constraints, and invariant
sentiment representations learned, under an invariance constraint, from several distributional
environments built from the joint representation and the unimodal data. No numbers were readable.

What we built (METHODS.md §4.3):
- Each available modality gives a Gaussian posterior q_m = N(mu_m, diag exp(logvar_m)) from its
  pooled stream; the joint q_J is their product of experts with a N(0, I) prior expert (absent
  modalities drop out of the product exactly; with none, q_J is the prior).
- Distributional constraints: `kl` = KL(q_J || N(0, I)) (beta-VAE weight); `consistency` = mean
  squared distance between each available mu_m and mu_J. Not KL(q_m || q_J): a product of experts
  is always tighter than each expert, so that KL has a floor (~0.45 nats per dimension with three
  experts) that only shrinking every variance to 0 approaches.
- Environments {joint, text, audio, visual}: ONE shared regressor f reads z_J or z_m. The score is
  f(z_J) (a sample in training, the mean mu_J in eval); `unimodal` is f(mu_m).
  `env_risk` = mean over unimodal environments of their task risk (the joint risk is the trainer's
  task loss); `invariance` = IRMv1 over the four environments (or V-REx, `invariance="vrex"`).
- Imbalance: risks inside each environment are re-weighted by inverse batch frequency of the
  label's polarity (`reweight_polarity`), so a rare polarity counts as much as a common one.

Where we chose (paper body unavailable): PoE with a prior expert (rather than a fusion MLP); the
unimodal environments (no pairwise mixtures); mean consistency (above); polarity re-weighting
as our reading of "use the imbalance".
Schedule: the invariance penalty is off for the first `invariance_warmup_epochs` (2) training
epochs, then on at `w_invariance` (`start_epoch`), as IRMv1's reference code anneals it: the
environments first learn to predict at all, then are asked to agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..features.spec import MODALITIES
from .base import CommonConfig, MSAModel
from .batch import Batch
from .layers import ScoreHead
from .objectives import (irm_penalty, kl_standard_normal, masked_average, polarity_balance_weights,
                         vrex_penalty)
from .output import ModelOutput
from .registry import register_model

LOGVAR_RANGE = (-8.0, 8.0)


def product_of_experts(mu: torch.Tensor, logvar: torch.Tensor,
                       available: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """mu, logvar [B, M, z], available [B, M] -> joint (mu [B, z], logvar [B, z]) with a N(0, I)
    prior expert, and each expert's share of the precision [B, M + 1] (prior first)."""
    precision = torch.exp(-logvar) * available.unsqueeze(-1).to(mu.dtype)
    total = 1.0 + precision.sum(1)
    joint_mu = (mu * precision).sum(1) / total
    shares = torch.cat([(1.0 / total).unsqueeze(1), precision / total.unsqueeze(1)], 1).mean(-1)
    return joint_mu, -torch.log(total), shares


@register_model("misr")
class MISR(MSAModel):
    @dataclass
    class Config(CommonConfig):
        latent: int = 64
        invariance: str = "irm"  # or "vrex"
        reweight_polarity: bool = True
        w_kl: float = 1e-3
        w_consistency: float = 0.1
        w_env_risk: float = 1.0
        w_invariance: float = 1.0
        invariance_warmup_epochs: int = 2

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.invariance_on = cfg.invariance_warmup_epochs <= 0  # until the trainer says otherwise
        if cfg.invariance not in ("irm", "vrex"):
            raise ValueError(f"invariance must be 'irm' or 'vrex', got {cfg.invariance!r}")
        self.posteriors = nn.ModuleDict({m: nn.Linear(cfg.d, 2 * cfg.latent) for m in MODALITIES})
        self.regressor = ScoreHead(cfg.latent, cfg.d, cfg.output_bound, cfg.dropout)

    def start_epoch(self, epoch: int) -> None:
        self.invariance_on = epoch >= self.cfg.invariance_warmup_epochs

    def sample(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return mu
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)

    def forward(self, batch: Batch, with_losses: bool | None = None) -> ModelOutput:
        cfg = self.cfg
        encoded = self.encoders(batch)
        available = batch.available()
        params = [self.posteriors[m](encoded[m].pooled).chunk(2, -1) for m in MODALITIES]
        mu = torch.stack([p[0] for p in params], 1)
        logvar = torch.stack([p[1] for p in params], 1).clamp(*LOGVAR_RANGE)
        joint_mu, joint_logvar, shares = product_of_experts(mu, logvar, available)

        score = self.regressor(self.sample(joint_mu, joint_logvar))
        out = ModelOutput(
            score=score,
            unimodal={m: self.regressor(mu[:, i]) for i, m in enumerate(MODALITIES)},
            routing={"poe_precision_share": shares},  # prior, text, audio, visual
        )
        if not self.wants_losses(with_losses):
            return out

        anything = available.any(1)
        out.add_loss("kl", masked_average(kl_standard_normal(joint_mu, joint_logvar), anything), cfg.w_kl)
        consistency = [masked_average((mu[:, i] - joint_mu).pow(2).mean(-1), available[:, i])
                       for i in range(len(MODALITIES))]
        out.add_loss("consistency", torch.stack(consistency).sum() / available.any(0).sum().clamp_min(1),
                     cfg.w_consistency)
        if batch.label is None:
            return out

        y = batch.label
        weight = polarity_balance_weights(y) if cfg.reweight_polarity else None
        predictions = [score] + [self.regressor(self.sample(mu[:, i], logvar[:, i]))
                                 for i in range(len(MODALITIES))]
        rows = [anything] + [available[:, i] for i in range(len(MODALITIES))]
        risks = [masked_average(self.task_loss(p, y), r, weight) for p, r in zip(predictions, rows)]
        unimodal_risks = [risk for risk, r in zip(risks[1:], rows[1:]) if bool(r.any())]
        env_risk = torch.stack(unimodal_risks).mean() if unimodal_risks else score.new_zeros(())
        out.add_loss("env_risk", env_risk, cfg.w_env_risk)
        if cfg.invariance == "irm":
            penalties = [irm_penalty(p, y, [r], cfg.task_loss, weight) for p, r in zip(predictions, rows)]
            penalty = torch.stack([p for p, r in zip(penalties, rows) if bool(r.any())]).mean() \
                if anything.any() else score.new_zeros(())
        else:
            penalty = vrex_penalty([risk for risk, r in zip(risks, rows) if bool(r.any())])
        out.add_loss("invariance", penalty, cfg.w_invariance if self.invariance_on else 0.0)
        return out
