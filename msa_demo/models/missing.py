"""Missing data, one function for everything: training augmentation, the robustness sweep and the
UI's missing-rate slider all call `apply_missing`, so a rate means the same thing everywhere.

Protocol (LNLN / TFR-Net, METHODS.md §1.3): each observed step of each modality is dropped
independently with probability r (kept where uniform > r); text keeps [CLS] (first token) and the
final [SEP] (last observed token). Dropped steps are masked and zeroed.

A step drop never empties a modality that was there: audio and visual keep at least their one step
with the highest draw (the last one a growing rate would take), so every rate, 1.0 included,
keeps >= 1 observed step. Why: a FER2013 still is a one-frame sequence, so an unguarded frame drop
at rate r switched the whole face off with probability r; with the stills that have no face at
all, about 29 % of FER training rows then carried a label and no input and trained the empty-input
output towards "negative". Switching a modality off is `present=`'s job (inter-modal missingness),
not the step drop's (intra-modal). LNLN replaces dropped text
tokens by [UNK] and re-runs BERT; our text features are cached MiniLM states, so we mask the state
instead. Those states are contextual: the kept [CLS]/[SEP] states still saw the whole sentence,
so text degrades more gently under r than in LNLN.

Reproducibility: one uniform draw per step for all three modalities on every call, whatever the
rates, so for one seed the dropped sets are nested as r grows (a sweep is monotone per sample).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..features.spec import MODALITIES
from .batch import Batch, with_fields

PresentSpec = torch.Tensor | Sequence[bool] | Sequence[str] | None
RateSpec = float | Sequence[float] | Mapping[str, float] | torch.Tensor


def apply_missing(batch: Batch, present: PresentSpec = None, rate: RateSpec = 0.0,
                  generator: torch.Generator | None = None) -> Batch:
    """Switch modalities off and drop steps at `rate`; returns a new Batch whose `complete` is the
    input (or the input's own `complete`).

    present: modalities to keep — names ("text", "audio"), 3 bools, or a bool tensor [3] / [B, 3];
        combined with AND with `batch.present`. None keeps what the batch has.
    rate: drop probability — one float, 3 floats or {modality: r} (per modality), or a tensor
        [B] / [B, 3] (per sample).
    generator: a CPU torch.Generator (seeded) for reproducible masks; None uses the global RNG.
    """
    n = len(batch)
    keep_modality = batch.present & _present_tensor(present, n, batch.device)
    rates = _rate_tensor(rate, n).to(batch.device)
    changes: dict[str, torch.Tensor] = {}
    for j, m in enumerate(MODALITIES):
        mask = batch.mask(m) & keep_modality[:, j, None]
        uniform = torch.rand(mask.shape, generator=generator).to(batch.device)
        keep = uniform > rates[:, j, None]
        if m == "text":
            keep = keep | _first_and_last(batch.mask(m))
        else:
            keep = keep | _last_to_go(mask, uniform)
        mask = mask & keep
        changes[m] = batch.values(m) * mask.unsqueeze(-1).to(batch.values(m).dtype)
        changes[f"{m}_mask"] = mask
    changes["present"] = keep_modality & torch.stack([changes[f"{m}_mask"].any(1) for m in MODALITIES], 1)
    complete = batch.complete if batch.complete is not None else batch
    return with_fields(batch, **changes, complete=complete)


def _first_and_last(mask: torch.Tensor) -> torch.Tensor:
    """[B, T] True at the first and the last observed step of each row ([CLS] and [SEP])."""
    t = mask.shape[1]
    positions = torch.arange(t, device=mask.device).expand_as(mask)
    first = torch.where(mask, positions, t).min(1).values
    last = torch.where(mask, positions, -1).max(1).values
    return mask & ((positions == first[:, None]) | (positions == last[:, None]))


def _last_to_go(mask: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """[B, T] True at the observed step with the highest draw in each row (none in an empty row).

    It is kept at every rate, so the dropped sets stay nested as r grows and no row is emptied.
    """
    if mask.shape[1] == 0:
        return mask
    scores = uniform.to(mask.device).masked_fill(~mask, -1.0)
    best = torch.nn.functional.one_hot(scores.argmax(1), mask.shape[1]).bool()
    return best & mask


def _present_tensor(present: PresentSpec, n: int, device: torch.device) -> torch.Tensor:
    if present is None:
        return torch.ones(n, len(MODALITIES), dtype=torch.bool, device=device)
    if isinstance(present, torch.Tensor):
        p = present.to(device=device, dtype=torch.bool)
        return p.expand(n, len(MODALITIES)) if p.ndim == 1 else p
    items = list(present)
    if all(isinstance(x, str) for x in items):
        unknown = set(items) - set(MODALITIES)
        if unknown:
            raise ValueError(f"unknown modalities {sorted(unknown)}; use {MODALITIES}")
        flags = [m in items for m in MODALITIES]
    elif len(items) == len(MODALITIES):
        flags = [bool(x) for x in items]
    else:
        raise ValueError("present: give modality names or 3 booleans (text, audio, visual)")
    return torch.tensor(flags, device=device).expand(n, len(MODALITIES))


def _rate_tensor(rate: RateSpec, n: int) -> torch.Tensor:
    """Python numbers / sequences / mappings are per modality; tensors are per sample ([B] or [B, 3])."""
    if isinstance(rate, Mapping):
        unknown = set(rate) - set(MODALITIES)
        if unknown:
            raise ValueError(f"unknown modalities {sorted(unknown)}; use {MODALITIES}")
        rate = [float(rate.get(m, 0.0)) for m in MODALITIES]
    if isinstance(rate, torch.Tensor):
        r = rate.detach().to("cpu", torch.float32)
        if r.ndim == 1:
            r = r[:, None].expand(-1, len(MODALITIES))
    else:
        r = torch.as_tensor(rate, dtype=torch.float32)
        if r.ndim == 1 and r.shape[0] != len(MODALITIES):
            raise ValueError("a sequence of rates needs one per modality (text, audio, visual)")
    if r.ndim <= 1:
        r = r.expand(n, len(MODALITIES))
    if r.shape != (n, len(MODALITIES)):
        raise ValueError(f"rate must be a float, 3 floats, or a tensor [B] / [B, 3]; got {tuple(r.shape)}")
    if (r < 0).any() or (r > 1).any():
        raise ValueError("missing rates must lie in [0, 1]")
    return r


def sample_training_rates(n: int, generator: torch.Generator | None = None,
                          p_complete: float = 0.5) -> torch.Tensor:
    """LNLN training rates [n, 3]: r ~ U(0, 1) per sample and modality, reset to 0 with p_complete."""
    rates = torch.rand(n, len(MODALITIES), generator=generator)
    complete = torch.rand(n, len(MODALITIES), generator=generator) < p_complete
    return rates.masked_fill(complete, 0.0)


def sample_modality_dropout(present: torch.Tensor, p_drop: float,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """Whole-modality dropout: switch each present modality off with p_drop, never all of them.

    Returns a bool [B, 3] to pass as `present=` to apply_missing.
    """
    present = present.cpu()
    drop = torch.rand(present.shape, generator=generator) < p_drop
    kept = present & ~drop
    # where everything would go, keep one present modality chosen at random
    lost = present.any(1) & ~kept.any(1)
    if lost.any():
        scores = torch.rand(present.shape, generator=generator).masked_fill(~present, -1.0)
        pick = torch.nn.functional.one_hot(scores.argmax(1), len(MODALITIES)).bool()
        kept = torch.where(lost[:, None], pick, kept)
    return kept
