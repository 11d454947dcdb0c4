"""Input statistics for the encoders' standardisation, computed over observed steps only (padding,
dropped frames and frames without a face would bias the mean towards zero)."""

from __future__ import annotations

from typing import Iterable

import torch

from ..features.spec import MODALITIES
from .batch import Batch


def feature_stats(batches: Iterable[Batch]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{modality: (mean [D], std [D])} over every observed step of every batch (float64 sums).

    A modality never observed keeps mean 0 / std 1. Pass the result to `model.set_feature_stats`;
    the statistics then live in the model's state dict and travel with its checkpoint.
    """
    sums: dict[str, torch.Tensor] = {}
    squares: dict[str, torch.Tensor] = {}
    counts: dict[str, float] = {m: 0.0 for m in MODALITIES}
    for batch in batches:
        for m in MODALITIES:
            rows = batch.values(m)[batch.observed(m)].double().cpu()
            if m not in sums:
                sums[m] = torch.zeros(rows.shape[1], dtype=torch.float64)
                squares[m] = torch.zeros_like(sums[m])
            sums[m] += rows.sum(0)
            squares[m] += (rows * rows).sum(0)
            counts[m] += rows.shape[0]
    stats = {}
    for m in sums:
        n = counts[m]
        if n == 0:
            stats[m] = (torch.zeros_like(sums[m]).float(), torch.ones_like(sums[m]).float())
            continue
        mean = sums[m] / n
        var = (squares[m] / n - mean * mean).clamp_min(0.0)
        stats[m] = (mean.float(), var.sqrt().float())
    return stats
