"""Auxiliary objectives shared by the methods (invariance penalties, MoE balance, Gaussian KLs,
InfoNCE, orthogonality). Every function takes masks of the rows it may use and returns a finite
scalar — zero when no row qualifies — so a batch where a modality or a pair is absent never
breaks training."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

TASK_LOSSES = ("l1", "mse")


def regression_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    """Elementwise task loss [B] (L1 is the MOSI convention; MSE is the alternative)."""
    if kind == "l1":
        return (pred - target).abs()
    if kind == "mse":
        return (pred - target) ** 2
    raise ValueError(f"task loss {kind!r}; use one of {TASK_LOSSES}")


POLARITY_SCALE = 0.25  # the ordinal logistic's width on the valence scale


def polarity_cross_entropy(score: torch.Tensor, label: torch.Tensor, band: float = 0.5,
                           scale: float = POLARITY_SCALE) -> torch.Tensor:
    """Elementwise cross-entropy [B] of the label's polarity-3 class under an ordinal logistic on the
    single score, with its cut points where polarity-3 has them (±band): P(negative) = σ((−band − s)/scale),
    P(positive) = σ((s − band)/scale), neutral the rest.

    Why beside L1: a class label (a RAVDESS or FER2013 emotion, a MELD sentiment) puts a mass at
    −1.5, 0 and +1.5, and L1's optimum is the conditional median — 0 (neutral) for any input whose
    evidence gives no class more than half the probability. The voice's valence is such evidence:
    under L1 alone every voice scored neutral (balanced polarity-3 at chance) though a classifier on
    the same features reaches 0.65. This loss gives every misplaced score a gradient and moves a weakly
    informed one towards the most probable class (class probabilities 0.45/0.30/0.25: L1's optimum 0,
    with this loss −0.25); an input with no evidence still sits at 0 (by symmetry)."""
    neg = torch.sigmoid((-band - score) / scale)
    pos = torch.sigmoid((score - band) / scale)
    probs = torch.stack([neg, (1.0 - neg - pos).clamp_min(1e-6), pos], dim=-1).clamp_min(1e-6)
    target = torch.where(label < -band, 0, torch.where(label > band, 2, 1))
    return -torch.log(probs.gather(-1, target.unsqueeze(-1)).squeeze(-1))


def masked_average(values: torch.Tensor, rows: torch.Tensor,
                   weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of values [B] over rows [B] bool (optionally weighted); 0 when no row qualifies."""
    w = rows.to(values.dtype)
    if weight is not None:
        w = w * weight
    return (values * w).sum() / w.sum().clamp_min(1e-8)


def _scale_gradient(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """Elementwise d/dw loss(w * pred, target) at w = 1 (IRMv1's dummy classifier), in closed form
    so it works without autograd.grad and under torch.no_grad."""
    if kind == "l1":
        return torch.sign(pred - target) * pred
    if kind == "mse":
        return 2.0 * (pred - target) * pred
    raise ValueError(f"task loss {kind!r}; use one of {TASK_LOSSES}")


def irm_penalty(pred: torch.Tensor, target: torch.Tensor, environments: Sequence[torch.Tensor],
                kind: str = "l1", weight: torch.Tensor | None = None) -> torch.Tensor:
    """IRMv1 (Arjovsky et al. 2019): mean over environments of ||d R_e(w * f) / dw at w=1||^2.

    environments: [B] bool masks (which rows belong to each); empty ones are skipped.
    """
    grad = _scale_gradient(pred, target, kind)
    penalties = [masked_average(grad, rows, weight) ** 2 for rows in environments if bool(rows.any())]
    return torch.stack(penalties).mean() if penalties else pred.new_zeros(())


def vrex_penalty(risks: Sequence[torch.Tensor]) -> torch.Tensor:
    """V-REx (Krueger et al. 2021): variance of the environment risks (0 with fewer than two)."""
    if len(risks) < 2:
        return risks[0].new_zeros(()) if risks else torch.zeros(())
    return torch.stack(list(risks)).var(unbiased=False)


def domain_environments(domain: torch.Tensor) -> list[torch.Tensor]:
    """One [B] bool mask per domain id present in the batch."""
    return [domain == d for d in torch.unique(domain)]


def load_balance_loss(probs: torch.Tensor, assigned: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Switch-Transformer balance loss K * sum_k f_k * P_k over rows [B]: f_k the share of routing
    slots given to expert k (assigned [B, K] 0/1, or the probabilities themselves for soft routing),
    P_k its mean router probability. 1.0 when perfectly balanced."""
    if not bool(rows.any()):
        return probs.new_zeros(())
    p, a = probs[rows], assigned[rows].to(probs.dtype)
    share = a.sum(0) / a.sum().clamp_min(1e-8)
    return probs.shape[-1] * (share * p.mean(0)).sum()


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last dim."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def info_nce(a: torch.Tensor, b: torch.Tensor, rows: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE between a [B, d] and b [B, d] over rows [B] (in-batch negatives); a lower
    bound on I(a; b) up to log(n). 0 with fewer than two rows (no negatives)."""
    if int(rows.sum()) < 2:
        return a.new_zeros(())
    a, b = F.normalize(a[rows], dim=-1), F.normalize(b[rows], dim=-1)
    logits = a @ b.t() / temperature
    labels = torch.arange(len(a), device=a.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


def orthogonality(p: torch.Tensor, s: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Mean squared cosine between p [B, d] and s [B, d] over rows: 0 when orthogonal (DMD-style)."""
    cos = F.cosine_similarity(p, s, dim=-1, eps=1e-6)
    return masked_average(cos.pow(2), rows)


def polarity_balance_weights(target: torch.Tensor) -> torch.Tensor:
    """[B] weights inversely proportional to the batch frequency of each polarity (neg / 0 / pos),
    normalised to mean 1: a rare polarity counts as much as a common one."""
    polarity = torch.sign(target).long() + 1
    counts = torch.bincount(polarity, minlength=3).to(target.dtype)
    w = 1.0 / counts[polarity]
    return w * (len(target) / w.sum())
