"""Tiny feature caches for tests, in the real on-disk format and at the current feature spec's widths.

Features are Gaussian noise whose first dimension carries the label, so a model has something to
learn and a distribution has a centre. `no_input` items imitate FER2013 stills without a face: the
modality is off (`present=False`) with its one masked step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
from msa_demo.features.spec import FEATURE_DIMS, FEATURE_SPEC_ID
from msa_demo.features.types import ModalityFeatures

SPLITS = ("train", "valid", "test")


def write_corpus(folder: Path, corpus: str, modality: str, n_per_split: int = 12, seed: int = 0,
                 length: tuple[int, int] = (3, 9), no_input_share: float = 0.0,
                 spec_id: str = FEATURE_SPEC_ID) -> Path:
    """One corpus cache with one modality; labels drawn from −1.5 / 0 / +1.5, each split cycling
    through the three so every polarity occurs."""
    rng = np.random.default_rng(seed)
    rows, features = [], []
    dim = FEATURE_DIMS[modality]
    for split in SPLITS:
        for i in range(n_per_split):
            label = (-1.5, 0.0, 1.5)[i % 3]
            t = int(rng.integers(length[0], length[1] + 1))
            values = rng.standard_normal((t, dim)).astype(np.float32)
            values[:, 0] += label
            times = (np.stack([np.arange(t), np.arange(t) + 1], 1) * 0.1).astype(np.float32)
            if rng.random() < no_input_share:
                feature = ModalityFeatures(np.zeros((t, dim)), np.zeros(t, bool), times, present=False)
            else:
                feature = ModalityFeatures(values, np.ones(t, bool), times)
            rows.append({"id": f"{corpus}-{split}-{i}", "split": split, "group": "", "label": label,
                         "label_class": "", "label_detail": "", "text": "", "text_source": "",
                         "source": "", "shard": shard_name(0), "row": len(rows), "face_fraction": 0.0,
                         "voiced_fraction": 0.0, "duration": 0.0, "notices": ""})
            features.append({modality: feature})
    folder.mkdir(parents=True, exist_ok=True)
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, spec_id, corpus)
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": spec_id,
                               "corpus": corpus, "complete": True})
    return folder


def write_caches(root: Path, n_per_split: int = 12, seed: int = 0, fer_no_input_share: float = 0.0) -> Path:
    """mosi (text), ravdess (audio) and fer2013 (one-frame visual stills) under `root`."""
    write_corpus(root / "mosi", "mosi", "text", n_per_split, seed + 1)
    write_corpus(root / "ravdess", "ravdess", "audio", n_per_split, seed + 2, length=(20, 40))
    write_corpus(root / "fer2013", "fer2013", "visual", n_per_split, seed + 3, length=(1, 1),
                 no_input_share=fer_no_input_share)
    return root
