"""Scoring a model on cached corpus items: the metric names per corpus and batched prediction.

Lives in the package (not training/) because the app's error-analysis tab reports the same numbers
as `python -m training.evaluate`; training/evaluate.py imports them from here, so there is one
definition of what "MOSI Acc-2" or "FER2013 polarity-3" means.
"""

from __future__ import annotations

import numpy as np
import torch

from ..models import apply_missing
from ..models import metrics as M

REGRESSION_CORPORA = ("mosi",)  # continuous valence labels; the rest are class-labelled
CORPUS_ORDER = ("mosi", "meld", "ravdess", "fer2013")
# how the page names each metric, in display order; PERCENT ones are shown ×100
METRIC_NAMES = {"n": "n", "acc2_has0": "Acc-2 has0", "acc2_non0": "Acc-2 non0", "f1_has0": "F1 has0",
                "f1_non0": "F1 non0", "acc7": "Acc-7", "mae": "MAE", "corr": "Corr",
                "valence3_acc": "polarity-3 acc", "valence3_f1": "polarity-3 F1"}
PERCENT = frozenset({"acc2_has0", "acc2_non0", "f1_has0", "f1_non0", "acc7", "valence3_acc", "valence3_f1"})


def corpus_metrics(corpus: str, pred: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """The issue's metric names: MOSI gets MMSA's regression row, class corpora polarity-3 + Acc-2."""
    if corpus in REGRESSION_CORPORA:
        return {"acc2_has0": M.acc2_has0(pred, label), "acc2_non0": M.acc2_non0(pred, label),
                "f1_has0": M.f1_has0(pred, label), "f1_non0": M.f1_non0(pred, label),
                "acc7": M.acc7(pred, label), "mae": M.mae(pred, label), "corr": M.corr(pred, label)}
    classes = M.polarity3(label)
    out = {"valence3_acc": M.polarity3_acc(pred, classes), "valence3_f1": M.polarity3_f1(pred, classes)}
    if (label != 0).any():
        out["acc2_non0"] = M.acc2_non0(pred, label)
    return out


@torch.no_grad()
def predict_outputs(model, batches, present=None, rate: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Concatenated outputs over `batches`: "score" [N], "available" [N, 3] (what the model could
    use, after `present` / `rate`), and "unimodal:<m>" [N] for models with unimodal heads."""
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    parts: dict[str, list[torch.Tensor]] = {}
    for batch in batches:
        if present is not None or rate:
            batch = apply_missing(batch, present=present, rate=rate, generator=generator)
        batch = batch.to(device)
        out = model(batch, with_losses=False)
        parts.setdefault("score", []).append(out.score.cpu())
        parts.setdefault("available", []).append(batch.available().cpu())
        for m, value in out.unimodal.items():
            parts.setdefault(f"unimodal:{m}", []).append(value.cpu())
    return {k: torch.cat(v).numpy() for k, v in parts.items()}


def predict(model, batches, present=None, rate: float = 0.0, seed: int = 0) -> np.ndarray:
    """Scores [N] over `batches` (modalities kept by `present`, steps dropped at `rate`, seeded)."""
    return predict_outputs(model, batches, present, rate, seed)["score"]
