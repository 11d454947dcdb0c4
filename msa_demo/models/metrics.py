"""MMSA's evaluation metrics (`utils/metricsTop.py`, METHODS.md §1.2) in plain numpy, so numbers are
comparable with published tables without an sklearn dependency.

- acc2 / f1 "has0": pred >= 0 vs label >= 0 over all samples; "non0": drop label == 0, then > 0.
- F1 is sklearn's average="weighted": per-class F1 weighted by the class's support in the labels.
- acc7: clip both to [-3, 3], round, exact match (acc5 with [-2, 2]).
- mae on unclipped predictions; corr is Pearson's r.
- polarity-3 (class-labelled corpora): predicted valence -> neg / neu / pos (|v| <= 0.5 neutral),
  accuracy and weighted F1 against the class labels.
"""

from __future__ import annotations

import numpy as np

# |valence| <= 0.5 is neutral (MMSA's Acc-3 bins): one definition, the data card's, for labels and scores.
from ..corpora.labels import polarity3_index


def _arrays(pred, label) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    label = np.asarray(label, dtype=np.float64).reshape(-1)
    if pred.shape != label.shape:
        raise ValueError(f"{pred.shape[0]} predictions for {label.shape[0]} labels")
    return pred, label


def weighted_f1(pred_class, true_class) -> float:
    """sklearn f1_score(average="weighted"): classes are those in either array, weights their
    support in `true_class`; a class with no predicted and no true sample scores 0."""
    pred_class, true_class = np.asarray(pred_class).reshape(-1), np.asarray(true_class).reshape(-1)
    if len(true_class) == 0:
        return 0.0
    total = 0.0
    for c in np.union1d(pred_class, true_class):
        tp = np.sum((pred_class == c) & (true_class == c))
        fp = np.sum((pred_class == c) & (true_class != c))
        fn = np.sum((pred_class != c) & (true_class == c))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        total += f1 * np.sum(true_class == c)
    return float(total / len(true_class))


def acc2_has0(pred, label) -> float:
    pred, label = _arrays(pred, label)
    return float(np.mean((pred >= 0) == (label >= 0)))


def f1_has0(pred, label) -> float:
    pred, label = _arrays(pred, label)
    return weighted_f1(pred >= 0, label >= 0)


def acc2_non0(pred, label) -> float:
    pred, label = _arrays(pred, label)
    keep = label != 0
    return float(np.mean((pred[keep] > 0) == (label[keep] > 0))) if keep.any() else float("nan")


def f1_non0(pred, label) -> float:
    pred, label = _arrays(pred, label)
    keep = label != 0
    return weighted_f1(pred[keep] > 0, label[keep] > 0) if keep.any() else float("nan")


def acc_clipped(pred, label, bound: float) -> float:
    """Acc-7 (bound 3) / Acc-5 (bound 2) / Acc-3 (bound 1): clip, round, exact match.

    np.round rounds halves to even, as MMSA's np.round does."""
    pred, label = _arrays(pred, label)
    return float(np.mean(np.round(np.clip(pred, -bound, bound)) == np.round(np.clip(label, -bound, bound))))


def acc7(pred, label) -> float:
    return acc_clipped(pred, label, 3.0)


def acc5(pred, label) -> float:
    return acc_clipped(pred, label, 2.0)


def mae(pred, label) -> float:
    pred, label = _arrays(pred, label)
    return float(np.mean(np.abs(pred - label)))


def corr(pred, label) -> float:
    """Pearson's r; NaN when either side is constant (undefined, as in numpy/scipy)."""
    pred, label = _arrays(pred, label)
    p, q = pred - pred.mean(), label - label.mean()
    denominator = np.sqrt(np.sum(p * p) * np.sum(q * q))
    return float(np.sum(p * q) / denominator) if denominator > 0 else float("nan")


def polarity3(values) -> np.ndarray:
    """Valence -> 0 negative / 1 neutral / 2 positive (the data card's bins, labels.polarity3_index)."""
    return polarity3_index(np.asarray(values, dtype=np.float64).reshape(-1))


def polarity3_acc(pred, label_class) -> float:
    """Predicted valence against class labels 0 / 1 / 2 (negative / neutral / positive)."""
    pred_class = polarity3(pred)
    label_class = np.asarray(label_class).reshape(-1)
    return float(np.mean(pred_class == label_class))


def polarity3_f1(pred, label_class) -> float:
    return weighted_f1(polarity3(pred), np.asarray(label_class).reshape(-1))


def regression_metrics(pred, label) -> dict[str, float]:
    """The MOSI / MOSEI table row (MMSA's names)."""
    return {
        "Has0_acc_2": acc2_has0(pred, label), "Has0_F1_score": f1_has0(pred, label),
        "Non0_acc_2": acc2_non0(pred, label), "Non0_F1_score": f1_non0(pred, label),
        "Mult_acc_5": acc5(pred, label), "Mult_acc_7": acc7(pred, label),
        "MAE": mae(pred, label), "Corr": corr(pred, label),
    }


def polarity_metrics(pred, label_class) -> dict[str, float]:
    """For class-labelled corpora (MELD sentiment, emotion corpora mapped to polarity)."""
    return {"Polarity3_acc": polarity3_acc(pred, label_class), "Polarity3_F1": polarity3_f1(pred, label_class)}
