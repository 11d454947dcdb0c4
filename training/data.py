"""Feature caches -> training examples -> batches.

Every corpus here carries one or two modalities (MOSI/MELD text, RAVDESS audio + a fixed sentence,
FER2013 face stills), so each example keeps its own `present` flags and the models learn every
modality subset through missing-modality training. Corpora differ 30x in size; a balanced sampler
draws each corpus equally often, so FER2013 does not drown MOSI.

Synthetic composites (optional, training split only, never evaluated): a text example, a RAVDESS
voice and a FER face of the same polarity, labelled with the mean of their valences. They are the
only place a model sees a voice and a face together; docs/DATA.md says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from msa_demo.corpora.cache import FeatureCache
from msa_demo.corpora.labels import polarity3_index
from msa_demo.features.spec import FEATURE_SPEC_ID
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import collate

DOMAINS = ("mosi", "meld", "ravdess", "fer2013")  # domain index = position; composites use -1
COMPOSITE = "composite"


@dataclass
class Example:
    id: str
    corpus: str
    split: str
    label: float
    features: dict[str, ModalityFeatures]

    @property
    def domain(self) -> int:
        return DOMAINS.index(self.corpus) if self.corpus in DOMAINS else -1


def load_examples(cache_root: str | Path, corpora: list[str], split: str,
                  limit: int | None = None) -> list[Example]:
    """All items of `split` from each corpus cache under `cache_root/<corpus>` (current spec only)."""
    examples = []
    for corpus in corpora:
        cache = FeatureCache(Path(cache_root) / corpus, spec_id=FEATURE_SPEC_ID)
        for n, item in enumerate(cache.iter(split)):
            if limit is not None and n >= limit:
                break
            examples.append(Example(item.id, corpus, split, float(item.label), item.features))
    return examples


def make_composites(examples: list[Example], n: int, seed: int) -> list[Example]:
    """`n` synthetic tri-modal examples: text + voice + face drawn from the same polarity class."""
    rng = np.random.default_rng(seed)
    pools: dict[str, dict[int, list[Example]]] = {m: defaultdict(list) for m in ("text", "audio", "visual")}
    for ex in examples:
        polarity = int(polarity3_index([ex.label])[0])
        if ex.corpus in ("mosi", "meld"):
            pools["text"][polarity].append(ex)
        elif ex.corpus == "ravdess":
            pools["audio"][polarity].append(ex)
        elif ex.corpus == "fer2013":
            pools["visual"][polarity].append(ex)
    usable = [p for p in range(3) if all(pools[m][p] for m in pools)]
    if not usable or n <= 0:
        return []
    out = []
    for i in range(n):
        polarity = usable[rng.integers(len(usable))]
        parts = {m: pools[m][polarity][rng.integers(len(pools[m][polarity]))] for m in pools}
        out.append(Example(
            id=f"composite-{i}:" + "+".join(p.id for p in parts.values()),
            corpus=COMPOSITE, split="train",
            label=float(np.mean([p.label for p in parts.values()])),
            features={m: parts[m].features[m] for m in pools},
        ))
    return out


class ExampleDataset(Dataset):
    def __init__(self, examples: list[Example]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> Example:
        return self.examples[i]


def collate_examples(examples: list[Example]):
    return collate([e.features for e in examples], labels=[e.label for e in examples],
                   domains=[e.domain for e in examples])


def balanced_sampler(examples: list[Example], num_samples: int, seed: int) -> WeightedRandomSampler:
    """Each corpus (and the composites) drawn equally often, with replacement."""
    counts: dict[str, int] = defaultdict(int)
    for ex in examples:
        counts[ex.corpus] += 1
    weights = torch.tensor([1.0 / counts[ex.corpus] for ex in examples], dtype=torch.double)
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(weights, num_samples=num_samples, replacement=True, generator=generator)
