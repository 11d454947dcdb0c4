"""Declared-synthetic composite sets that measure fusion, which no corpus here can.

Every test split here carries one informative modality, so the corpus tables cannot show whether a
model weighs the words above the voice and the face. These sets can: composites built exactly as
the training ones (training/composites.py: text / voice / face agree with the label 0.80 / 0.60 /
0.60, conflicts common, label mostly the text's), but only from the TEST splits (the test set, for
`python -m training.evaluate --corpora …,composite`) or only from the VALIDATION splits (the
validation set, added to the validation loss so checkpoint choice is not purely unimodal). They
are synthetic, said so in every report, and never replace the corpus tables.

Expected behaviour, by what the model can see (`observed_pattern` of the parts' polarities):
- agree (all three the same polarity): that polarity;
- one_dissent (the text and one other agree): the text's polarity;
- three_way (all different, e.g. text positive, voice negative, face neutral): the text's polarity;
- voice_face_vs_text (voice and face agree against the text): no expectation — under the stated
  rates it is a near tie (log-odds 2.08 for the text, 1.10 + 1.10 for the other two).
"follow_text" is the share of the first three patterns where the predicted polarity-3 is the
text's; a model that leans on the voice or the face, as the shipped v1 checkpoints do, scores low.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from msa_demo.corpora.cache import CacheError
from msa_demo.models import metrics as M

from .composites import FOLLOW_TEXT_EXPECTED, PATTERNS, observed_pattern
from .data import Example, load_examples, make_composites

SOURCE_CORPORA = ("mosi", "meld", "ravdess", "fer2013")
TEST_SIZE, TEST_SEED = 3000, 20260
VALID_SIZE, VALID_SEED = 600, 20261  # one fixed set for every model and seed: choices comparable


def composite_set(cache_root: str | Path, split: str, n: int, seed: int,
                  corpora: tuple[str, ...] = SOURCE_CORPORA) -> list[Example]:
    """`n` composites from the `split` items of the corpus caches under `cache_root`; [] when the
    caches cannot give a text, a voice and a face (a corpus cache absent or of another spec)."""
    examples: list[Example] = []
    for corpus in corpora:
        try:
            examples += load_examples(cache_root, [corpus], split, drop_empty=True)
        except (CacheError, FileNotFoundError):
            continue
    return make_composites(examples, n, seed, split=split)


def composite_metrics(pred: np.ndarray, label: np.ndarray, shown: np.ndarray) -> dict[str, float]:
    """Label metrics (polarity-3, Acc-2 non0, MAE) and the expected-behaviour rates by pattern.

    shown [N, 3]: polarity indices (0 negative, 1 neutral, 2 positive) of the text, voice, face parts.
    """
    pred, label, shown = np.asarray(pred, float), np.asarray(label, float), np.asarray(shown, int)
    classes = M.polarity3(label)
    out = {"valence3_acc": M.polarity3_acc(pred, classes), "valence3_f1": M.polarity3_f1(pred, classes),
           "mae": M.mae(pred, label)}
    if (label != 0).any():
        out["acc2_non0"] = M.acc2_non0(pred, label)
    predicted = M.polarity3(pred)
    follows = predicted == shown[:, 0]
    patterns = np.array([observed_pattern(s) for s in shown])
    expected = np.array([FOLLOW_TEXT_EXPECTED[p] is True for p in patterns])
    if expected.any():
        out["follow_text"] = float(follows[expected].mean())
    for p in PATTERNS:
        rows = patterns == p
        if rows.any():
            out[f"n:{p}"] = float(rows.sum())
            out[f"follow_text:{p}"] = float(follows[rows].mean())
            out[f"valence3_acc:{p}"] = float((predicted[rows] == classes[rows]).mean())
    return out
