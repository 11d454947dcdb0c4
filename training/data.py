"""Feature caches -> training examples -> batches.

Every corpus here carries one or two modalities (MOSI/MELD text, RAVDESS audio + a fixed sentence,
FER2013 face stills), so each example keeps its own `present` flags and the models learn every
modality subset through missing-modality training. Corpora differ 30x in size; a balanced sampler
draws each corpus equally often, so FER2013 does not drown MOSI.

Within the acted corpora (RAVDESS, FER2013) the sampler also draws each polarity equally often. Their
class counts are a design choice of the corpus, not how people feel: RAVDESS has four negative
emotions to one positive, so its mean valence is −0.6, and a voice the model cannot read (any real
speaker, unlike the actors) was scored at exactly that prior, −0.6, on every real clip. Balanced,
the prior is 0 and an unreadable voice or face adds nothing. MOSI and MELD keep their natural mix.

The voice: half of the training voices are measured against their actor's median over all their
recordings (speaker normalisation, the standard cross-corpus step), half against their own (what
one upload gets live); validation and test against their own (`speaker_share`).

Training rows without any input (a FER2013 still with no detected face) are left out of the
training split: a label with nothing to read only teaches the empty-input output a bias. They stay
in validation and test, where they are scored as the empty input, as a user's faceless photo is.

Synthetic composites (optional, training split only here): a text, a RAVDESS voice and a FER face
whose polarities agree with the composite's label as often as each modality does on real MSA data
(training/composites.py, docs/DATA.md). They are the only place a model sees a voice and a face
together.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, WeightedRandomSampler

from msa_demo.corpora.cache import OWN, SPEAKER, FeatureCache
from msa_demo.corpora.labels import polarity3_index
from msa_demo.features.spec import FEATURE_SPEC_ID
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import collate

from .composites import AGREEMENT, COMPOSITE, build_composites

DOMAINS = ("mosi", "meld", "ravdess", "fer2013")  # domain index = position; composites use -1


@dataclass
class Example:
    id: str
    corpus: str
    split: str
    label: float
    features: dict[str, ModalityFeatures]
    case: str = ""  # composites only: their agreement pattern (training/composites.py)
    shown: tuple[int, int, int] | None = None  # composites only: the parts' polarity indices …
    sources: tuple[str, str, str] | None = None  # … and corpora (text, voice, face)

    @property
    def has_input(self) -> bool:
        """At least one modality switched on with an observed step."""
        return any(f.present and bool(np.asarray(f.mask).any()) for f in self.features.values())

    @property
    def domain(self) -> int:
        return DOMAINS.index(self.corpus) if self.corpus in DOMAINS else -1


def load_examples(cache_root: str | Path, corpora: list[str], split: str,
                  limit: int | None = None, drop_empty: bool | None = None,
                  spec_id: str = FEATURE_SPEC_ID, speaker_share: float = 0.0) -> list[Example]:
    """All items of `split` from each corpus cache under `cache_root/<corpus>` (of `spec_id`: the
    current spec unless a check of an older checkpoint asks for its own).

    drop_empty (default: True for the training split only) leaves out items with no input at all.
    speaker_share: the share of items whose voice is measured against their speaker's median (all
    their recordings) instead of their own (what one upload gets); which ones is fixed by the id.
    """
    drop_empty = split == "train" if drop_empty is None else drop_empty
    examples = []
    for corpus in corpora:
        cache = FeatureCache(Path(cache_root) / corpus, spec_id=spec_id)
        for n, item in enumerate(cache.iter(split, baseline=lambda row: whose_baseline(row["id"], speaker_share))):
            if limit is not None and n >= limit:
                break
            ex = Example(item.id, corpus, split, float(item.label), item.features)
            if drop_empty and not ex.has_input:
                continue
            examples.append(ex)
    return examples


def whose_baseline(item_id: str, speaker_share: float) -> str:
    """SPEAKER for a fixed `speaker_share` of ids (by a hash of the id, the same on every machine), else OWN."""
    if speaker_share <= 0:
        return OWN
    draw = int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=8).digest(), "little") / 2**64
    return SPEAKER if draw < speaker_share else OWN


def make_composites(examples: list[Example], n: int, seed: int, split: str = "train",
                    agreement: dict[str, float] | None = None) -> list[Example]:
    """`n` synthetic tri-modal examples from the `split` items of `examples` (training by default;
    the validation and test composite sets of training/composite_eval.py use their own splits)."""
    def make(ident, label, features, case, shown, sources):
        return Example(ident, COMPOSITE, split, label, features, case=case, shown=shown, sources=sources)
    return build_composites(examples, n, seed, split, AGREEMENT if agreement is None else agreement, make)


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


def sampling_weights(examples: list[Example], class_balanced: tuple[str, ...] = (),
                     corpus_weights: dict[str, float] | None = None) -> np.ndarray:
    """Each corpus (and the composites) gets the same total weight, times `corpus_weights[corpus]`
    (default 1); within a corpus named in `class_balanced`, each polarity-3 class present gets the
    same share of it."""
    counts: dict[str, int] = defaultdict(int)
    per_class: dict[tuple[str, int], int] = defaultdict(int)
    polarity = polarity3_index([ex.label for ex in examples])
    for ex, p in zip(examples, polarity):
        counts[ex.corpus] += 1
        per_class[ex.corpus, int(p)] += 1
    classes = {c: sum(1 for (corpus, _) in per_class if corpus == c) for c in counts}
    scale = corpus_weights or {}
    return np.array([scale.get(ex.corpus, 1.0) * (
        1.0 / (classes[ex.corpus] * per_class[ex.corpus, int(p)]) if ex.corpus in class_balanced
        else 1.0 / counts[ex.corpus]) for ex, p in zip(examples, polarity)])


def balanced_sampler(examples: list[Example], num_samples: int, seed: int,
                     class_balanced: tuple[str, ...] = (),
                     corpus_weights: dict[str, float] | None = None) -> WeightedRandomSampler:
    """Draws by `sampling_weights`, with replacement."""
    weights = torch.tensor(sampling_weights(examples, tuple(class_balanced), corpus_weights), dtype=torch.double)
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(weights, num_samples=num_samples, replacement=True, generator=generator)
