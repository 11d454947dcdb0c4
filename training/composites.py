"""Synthetic tri-modal composites whose modalities are as trustworthy as they are on real MSA data.

No corpus here has words, a voice and a face together, so a composite joins a MOSI/MELD text, a
RAVDESS voice and a FER2013 face. The first version took all three of the *same* polarity and
labelled the mean of their valences: the voice and the face agreed with the label 100 % of the
time and set two thirds of it, so every model learned to trust them over the words — the opposite
of real video, where the words carry most of the sentiment.

Generative story (one composite):
1. a latent polarity y (negative / neutral / positive), drawn uniformly;
2. each modality m independently shows polarity y with probability AGREEMENT[m], otherwise one of
   the other two polarities, equally likely — so conflicts between modalities are common;
3. the label is the text's own valence when the text shows y (the label is mostly the text's:
   AGREEMENT["text"] of the time), otherwise the label-table value of y (−1.5 / 0 / +1.5), which
   then agrees with the voice and/or the face when they show y.

The agreement rates follow published unimodal accuracies on CMU-MOSI (docs/DATA.md, "Synthetic
composites", gives the numbers and their source). Under these rates the Bayes-optimal fusion
follows the text when one other modality disagrees with it, and is close to a tie when the voice
and the face both disagree with the text: the model must weigh the words most, and still listen.

`case_name` names each composite's agreement with its latent polarity (what the generator did);
`observed_pattern` names what a model can see — how the three parts' polarities relate — which is
what the composite test set reports "follows the text" by (training/composite_eval.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np

from msa_demo.corpora.labels import SENTIMENT_VALENCE, polarity3_index

MODALITY_SOURCES = {"text": ("mosi", "meld"), "audio": ("ravdess",), "visual": ("fer2013",)}
# P(the modality's own polarity == the composite's) — see docs/DATA.md for the source
AGREEMENT = {"text": 0.80, "audio": 0.60, "visual": 0.60}
POLARITY_VALENCE = (SENTIMENT_VALENCE["negative"], SENTIMENT_VALENCE["neutral"], SENTIMENT_VALENCE["positive"])
COMPOSITE = "composite"


def modality_pools(examples: Sequence, split: str | None = None) -> dict[str, dict[int, list]]:
    """{modality: {polarity index: [examples whose source corpus carries that modality, present]}}."""
    pools: dict[str, dict[int, list]] = {m: defaultdict(list) for m in MODALITY_SOURCES}
    for ex in examples:
        if split is not None and ex.split != split:
            continue
        for m, corpora in MODALITY_SOURCES.items():
            f = ex.features.get(m)
            if ex.corpus in corpora and f is not None and f.present and bool(np.asarray(f.mask).any()):
                pools[m][int(polarity3_index([ex.label])[0])].append(ex)
    return pools


def draw_polarities(rng: np.random.Generator, agreement: dict[str, float]) -> tuple[int, dict[str, int]]:
    """(latent polarity y, {modality: shown polarity}) following the generative story above."""
    y = int(rng.integers(3))
    shown = {}
    for m in MODALITY_SOURCES:
        if rng.random() < agreement[m]:
            shown[m] = y
        else:
            others = [p for p in range(3) if p != y]
            shown[m] = others[int(rng.integers(2))]
    return y, shown


def composite_label(y: int, shown: dict[str, int], text_label: float) -> float:
    """The text's own valence when it shows y, else the label-table value of y."""
    return float(text_label) if shown["text"] == y else POLARITY_VALENCE[y]


def case_name(y: int, shown: dict[str, int]) -> str:
    """Agreement pattern: 'all agree', 'text vs voice', 'text vs face', 'text vs both',
    'text alone wrong' (voice and face right), or 'text wrong, one right' / 'none right'."""
    right = {m: shown[m] == y for m in shown}
    if all(right.values()):
        return "all agree"
    if right["text"]:
        if not right["audio"] and not right["visual"]:
            return "text vs both"
        return "text vs voice" if not right["audio"] else "text vs face"
    if right["audio"] and right["visual"]:
        return "text alone wrong"
    return "text wrong, one right" if (right["audio"] or right["visual"]) else "none right"


PATTERNS = ("agree", "one_dissent", "three_way", "voice_face_vs_text")
# what a model should do with each observable pattern under AGREEMENT (Bayes-optimal polarity):
# follow the text, except voice_face_vs_text, a near tie (log-odds 2.08 for the text vs 2 x 1.10)
FOLLOW_TEXT_EXPECTED = {"agree": True, "one_dissent": True, "three_way": True, "voice_face_vs_text": None}


def observed_pattern(shown: Sequence[int]) -> str:
    """From the (text, voice, face) polarities a model sees: all equal ('agree'); the text equal to
    one of the other two ('one_dissent'); all three different ('three_way', e.g. text positive,
    voice negative, face neutral); voice and face equal and against the text ('voice_face_vs_text')."""
    t, a, v = shown
    if t == a == v:
        return "agree"
    if t == a or t == v:
        return "one_dissent"
    return "voice_face_vs_text" if a == v else "three_way"


def build_composites(examples: Sequence, n: int, seed: int, split: str,
                     agreement: dict[str, float] | None = None, make=None) -> list:
    """`n` composites from `examples` of `split`; `make(id, label, features, case, shown, sources)`
    builds each one (`shown`: the (text, voice, face) polarity indices of its parts; `sources`: their
    corpora).

    Returns [] when a modality has no usable example at all (e.g. its corpus is left out). A
    polarity a modality lacks (only in tiny test caches) is replaced by one it has, and the case
    is named from the polarity actually used.
    """
    agreement = dict(AGREEMENT if agreement is None else agreement)
    pools = modality_pools(examples, split)
    if n <= 0 or any(not any(pools[m].values()) for m in pools):
        return []
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        y, shown = draw_polarities(rng, agreement)
        for m in pools:
            if not pools[m][shown[m]]:
                have = [p for p in range(3) if pools[m][p]]
                shown[m] = have[int(rng.integers(len(have)))]
        parts = {m: pools[m][shown[m]][int(rng.integers(len(pools[m][shown[m]])))] for m in pools}
        label = composite_label(y, shown, parts["text"].label)
        features = {m: parts[m].features[m] for m in pools}
        prefix = f"{COMPOSITE}-{i}" if split == "train" else f"{COMPOSITE}-{split}-{i}"
        ident = f"{prefix}:" + "+".join(parts[m].id for m in pools)
        out.append(make(ident, label, features, case_name(y, shown), tuple(shown[m] for m in pools),
                        tuple(parts[m].corpus for m in pools)))
    return out
