"""The batch every model consumes: padded per-modality sequences, their masks, and which modalities
are on. One format for training, evaluation and the UI, so missing data is handled in one place.

Conventions
- `<m>_mask` True = an observed step (token, audio frame, frame with a face). Values at unobserved
  steps are zero and never matter: models only read `batch.observed(m)` = mask & present.
- `present[B, 3]` (order text, audio, visual) switches whole modalities off.
- `label [B]` (valence, -3..3) and `domain [B]` (source-corpus index) are optional; models use them
  only for label-dependent auxiliary losses.
- `complete` is the same samples with nothing dropped (same shapes and order), or None. The trainer
  gets it for free: `apply_missing` sets it to its input. DERL reconstructs it; others ignore it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch

from ..features.spec import FEATURE_DIMS, MODALITIES
from ..features.types import ModalityFeatures


@dataclass
class Batch:
    text: torch.Tensor  # [B, Tt, 384]
    text_mask: torch.Tensor  # [B, Tt] bool
    audio: torch.Tensor  # [B, Ta, 35] at 50 fps
    audio_mask: torch.Tensor
    visual: torch.Tensor  # [B, Tv, 56] at 10 fps
    visual_mask: torch.Tensor
    present: torch.Tensor  # [B, 3] bool, order MODALITIES
    label: torch.Tensor | None = None  # [B] float
    domain: torch.Tensor | None = None  # [B] long
    complete: "Batch | None" = None

    def __post_init__(self) -> None:
        n = self.present.shape[0]
        if self.present.shape != (n, len(MODALITIES)):
            raise ValueError(f"present must be [B, 3], got {tuple(self.present.shape)}")
        for m in MODALITIES:
            values, mask = self.values(m), self.mask(m)
            if values.ndim != 3 or values.shape[:2] != mask.shape or values.shape[0] != n:
                raise ValueError(f"{m}: values {tuple(values.shape)} and mask {tuple(mask.shape)} disagree")
            if values.shape[2] != FEATURE_DIMS[m]:
                raise ValueError(f"{m}: width {values.shape[2]}, the feature spec says {FEATURE_DIMS[m]}")

    def __len__(self) -> int:
        return self.present.shape[0]

    def values(self, m: str) -> torch.Tensor:
        return getattr(self, m)

    def mask(self, m: str) -> torch.Tensor:
        return getattr(self, f"{m}_mask")

    def observed(self, m: str) -> torch.Tensor:
        """[B, T] steps a model may look at: observed and the modality switched on."""
        return self.mask(m) & self.present[:, MODALITIES.index(m), None]

    def available(self) -> torch.Tensor:
        """[B, 3] modality on and at least one observed step: what a model can use at all."""
        return torch.stack([self.observed(m).any(1) for m in MODALITIES], 1)

    @property
    def device(self) -> torch.device:
        return self.present.device

    def to(self, device: torch.device | str) -> "Batch":
        moved: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            moved[f.name] = value.to(device) if value is not None else None
        return Batch(**moved)

    def select(self, index: torch.Tensor | Sequence[int]) -> "Batch":
        """Rows `index` (also of `complete`)."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.device)
        picked: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            picked[f.name] = value.select(index) if isinstance(value, Batch) else (
                value[index] if value is not None else None)
        return Batch(**picked)


def _feature(sample: Any, m: str) -> ModalityFeatures | None:
    if isinstance(sample, Mapping):
        return sample.get(m)
    return getattr(sample, m, None)  # a FeatureBundle


def collate(samples: Iterable[Mapping[str, ModalityFeatures] | Any],
            labels: Sequence[float] | None = None,
            domains: Sequence[int] | None = None) -> Batch:
    """Pad ragged samples into one Batch.

    `samples`: dicts modality -> ModalityFeatures (a missing key = absent), or FeatureBundles.
    A modality counts as present only if it is switched on AND has an observed step: a clip with no
    face anywhere carries no visual information. Every padded length is at least 1 so no tensor is
    empty.
    """
    samples = list(samples)
    n = len(samples)
    if n == 0:
        raise ValueError("cannot collate an empty list")
    present = np.zeros((n, len(MODALITIES)), bool)
    tensors: dict[str, torch.Tensor] = {}
    for j, m in enumerate(MODALITIES):
        feats = [_feature(s, m) for s in samples]
        length = max([len(f.values) for f in feats if f is not None] + [1])
        values = np.zeros((n, length, FEATURE_DIMS[m]), np.float32)
        mask = np.zeros((n, length), bool)
        for i, f in enumerate(feats):
            if f is None or not f.present or len(f.values) == 0:
                continue
            if f.values.shape[1] != FEATURE_DIMS[m]:
                raise ValueError(f"sample {i}: {m} width {f.values.shape[1]}, expected {FEATURE_DIMS[m]}")
            t = len(f.values)
            values[i, :t], mask[i, :t] = f.values, f.mask
            present[i, j] = bool(f.mask.any())
        values[~mask] = 0.0
        tensors[m] = torch.from_numpy(values)
        tensors[f"{m}_mask"] = torch.from_numpy(mask)
    return Batch(
        **tensors,
        present=torch.from_numpy(present),
        label=None if labels is None else torch.as_tensor(np.asarray(labels, np.float32)),
        domain=None if domains is None else torch.as_tensor(np.asarray(domains, np.int64)),
    )


def with_fields(batch: Batch, **changes: Any) -> Batch:
    """A copy of `batch` with some fields replaced (dataclasses.replace, re-validated)."""
    return replace(batch, **changes)
