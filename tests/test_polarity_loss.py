"""The ordinal polarity loss beside L1 on class-labelled corpora: it moves a weakly informed score
towards the most probable class (L1 leaves it at the median, 0), and leaves an uninformed one at 0."""

from __future__ import annotations

import numpy as np
import torch

from msa_demo.models.objectives import polarity_cross_entropy
from training.data import Example, sampling_weights
from training.module import class_rows, validation_metrics


def _expected_loss(score: float, probs: tuple[float, float, float], l1: bool, ce: bool) -> float:
    labels = torch.tensor([-1.5, 0.0, 1.5])
    s = torch.full((3,), score)
    total = torch.zeros(3)
    if l1:
        total = total + (s - labels).abs()
    if ce:
        total = total + polarity_cross_entropy(s, labels)
    return float((total * torch.tensor(probs)).sum())


def _best_score(probs, l1=True, ce=True) -> float:
    grid = np.linspace(-3, 3, 601)
    return float(grid[np.argmin([_expected_loss(g, probs, l1, ce) for g in grid])])


def test_weak_evidence_moves_the_score_only_with_the_polarity_loss():
    weak_negative = (0.45, 0.30, 0.25)  # no class above half: L1's median is exactly neutral
    assert _best_score(weak_negative, ce=False) == 0.0
    assert _best_score(weak_negative) < -0.2  # towards negative (still inside the band: weak evidence)
    assert _best_score((0.25, 0.30, 0.45)) > 0.2
    assert abs(_best_score((1 / 3, 1 / 3, 1 / 3))) < 0.02  # no evidence: 0, by symmetry


def test_the_loss_is_lowest_on_the_labels_side():
    labels = torch.tensor([-1.5, 0.0, 1.5])
    for i, label in enumerate(labels):
        losses = [float(polarity_cross_entropy(torch.tensor([s]), label.view(1))) for s in (-1.5, 0.0, 1.5)]
        assert int(np.argmin(losses)) == i


def test_only_class_corpora_get_it_and_validation_counts_it():
    domain = torch.tensor([0, 1, 2, 3, -1])  # mosi, meld, ravdess, fer2013, composite
    assert class_rows(domain).tolist() == [False, True, True, True, False]
    score, label = np.array([0.0, 0.0]), np.array([1.5, 1.5])
    plain = validation_metrics(score, label, np.array([2, 2]))
    weighted = validation_metrics(score, label, np.array([2, 2]), polarity_weight=1.0)
    assert weighted["val/loss"] == plain["val/loss"] + 1.0 and weighted["val/ravdess_bal3"] == 0.0
    right = validation_metrics(np.array([1.0, -1.0]), np.array([1.5, -1.5]), np.array([2, 2]), polarity_weight=1.0)
    assert right["val/ravdess_bal3"] == 1.0 and right["val/loss"] == 0.5


def test_a_corpus_weight_scales_its_share_of_the_draw():
    def ex(corpus, i, label=0.0):
        return Example(f"{corpus}{i}", corpus, "train", label, {})
    examples = [ex("mosi", i) for i in range(10)] + [ex("ravdess", i, [-1.5, 0.0, 1.5][i % 3]) for i in range(30)]
    w = sampling_weights(examples, ("ravdess",), {"ravdess": 2.0})
    share = w[10:].sum() / w.sum()
    assert abs(share - 2 / 3) < 1e-9
