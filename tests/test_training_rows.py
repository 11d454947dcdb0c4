"""No training row without input, and composites that trust each modality as real MSA data does."""

from collections import Counter

import numpy as np
import pytest
import torch

from msa_demo.corpora.labels import polarity3_index
from msa_demo.models import apply_missing, sample_modality_dropout, sample_training_rates
from synthetic_cache import write_caches


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    # a third of the FER-like stills have no face: present=False with their one masked step
    return write_caches(tmp_path_factory.mktemp("rows"), n_per_split=30, fer_no_input_share=0.33)


def test_a_step_drop_never_empties_a_one_frame_still(caches):
    """The FER bug: a one-frame sequence lost its face with probability r under frame drop."""
    from training.data import collate_examples, load_examples

    fer = [ex for ex in load_examples(caches, ["fer2013"], "train") if ex.has_input]
    batch = collate_examples(fer)
    assert batch.visual_mask.sum(1).tolist() == [1] * len(fer)
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        out = apply_missing(batch, rate=torch.rand(len(fer), generator=g), generator=g)
        assert out.present[:, 2].all() and (out.visual_mask.sum(1) == 1).all()
        assert torch.equal(out.visual, batch.visual)  # the one frame is kept as it is


def test_training_split_has_no_row_without_input_and_the_training_degradation_keeps_one(caches):
    from training.data import collate_examples, load_examples

    corpora = ["mosi", "ravdess", "fer2013"]
    stored = load_examples(caches, ["fer2013"], "train", drop_empty=False)
    assert sum(not ex.has_input for ex in stored) >= 5  # the fixture really has faceless stills
    train = load_examples(caches, corpora, "train")
    assert train and all(ex.has_input for ex in train)
    assert len([ex for ex in train if ex.corpus == "fer2013"]) == sum(ex.has_input for ex in stored)
    # validation and test keep them: they are scored as the empty input, as a user's photo is
    assert any(not ex.has_input for ex in load_examples(caches, ["fer2013"], "test"))
    # the training step's own degradation (module.py): modality dropout, then step drop at U(0, 0.9)
    batch = collate_examples(train)
    for seed in range(30):
        g = torch.Generator().manual_seed(seed)
        present = sample_modality_dropout(batch.present, 0.5, g)
        rates = sample_training_rates(len(batch), g) * 0.9
        out = apply_missing(batch, present=present, rate=rates, generator=g)
        assert out.available().any(1).all()


def test_composites_agree_with_their_label_at_the_stated_rates(caches):
    from training.composites import AGREEMENT
    from training.data import load_examples, make_composites

    train = load_examples(caches, ["mosi", "ravdess", "fer2013"], "train")
    by_id = {ex.id: ex for ex in train}
    composites = make_composites(train, 6000, seed=3)
    assert len(composites) == 6000
    agree = {m: 0 for m in AGREEMENT}
    text_label = 0
    all_agree = 0
    for ex in composites:
        assert ex.corpus == "composite" and ex.split == "train" and ex.domain == -1
        assert set(ex.features) == {"text", "audio", "visual"} and ex.has_input
        parts = dict(zip(("text", "audio", "visual"), (by_id[i] for i in ex.id.split(":", 1)[1].split("+"))))
        assert [p.corpus for p in parts.values()] == ["mosi", "ravdess", "fer2013"]
        assert all(p.split == "train" and p.has_input for p in parts.values())
        y = int(polarity3_index([ex.label])[0])
        hits = {m: int(polarity3_index([p.label])[0]) == y for m, p in parts.items()}
        for m in agree:
            agree[m] += hits[m]
        text_label += ex.label == parts["text"].label
        all_agree += all(hits.values())
    n = len(composites)
    for m, rate in AGREEMENT.items():
        assert abs(agree[m] / n - rate) < 0.03, (m, agree[m] / n)
    assert agree["text"] > agree["audio"] + 0.1 and agree["text"] > agree["visual"] + 0.1
    assert abs(text_label / n - AGREEMENT["text"]) < 0.03  # the label is mostly the text's
    assert all_agree / n < 0.5  # conflicts are the rule, not the exception
    cases = Counter(ex.case for ex in composites)
    assert {"all agree", "text vs voice", "text vs face", "text vs both", "text alone wrong"} <= set(cases)


def test_composites_use_only_their_split(caches):
    from training.data import load_examples, make_composites

    train = load_examples(caches, ["mosi", "ravdess", "fer2013"], "train")
    test = load_examples(caches, ["mosi", "ravdess", "fer2013"], "test")
    assert all("-test-" not in c.id for c in make_composites(train + test, 500, seed=0))
    held_out = make_composites(train + test, 200, seed=0, split="test")
    assert held_out and all("-train-" not in c.id and c.split == "test" for c in held_out)
    assert make_composites(train, 10, seed=0, split="test") == []  # nothing of that split, no composites
    assert make_composites([ex for ex in train if ex.corpus != "ravdess"], 10, seed=0) == []


def test_composites_are_seeded():
    from training.composites import draw_polarities

    a = [draw_polarities(np.random.default_rng(5), {"text": 0.8, "audio": 0.6, "visual": 0.6}) for _ in range(3)]
    b = [draw_polarities(np.random.default_rng(5), {"text": 0.8, "audio": 0.6, "visual": 0.6}) for _ in range(3)]
    assert a == b


def test_acted_corpora_are_drawn_with_every_polarity_equally_often():
    from training.data import Example, sampling_weights

    # RAVDESS's real mix per actor: 32 negative, 20 neutral, 8 positive (mean valence -0.6)
    labels = [-1.5] * 32 + [0.0] * 20 + [1.5] * 8
    acted = [Example(f"r{i}", "ravdess", "train", v, {}) for i, v in enumerate(labels)]
    natural = [Example(f"m{i}", "mosi", "train", v, {}) for i, v in enumerate([-2.0] * 30 + [1.0] * 10)]
    w = sampling_weights(acted + natural, class_balanced=("ravdess",))
    corpus_share = {c: w[[e.corpus == c for e in acted + natural]].sum() / w.sum() for c in ("ravdess", "mosi")}
    assert corpus_share["ravdess"] == pytest.approx(0.5) and corpus_share["mosi"] == pytest.approx(0.5)
    polarity = polarity3_index(labels)
    shares = [w[:len(acted)][polarity == p].sum() / w[:len(acted)].sum() for p in range(3)]
    assert shares == pytest.approx([1 / 3] * 3)
    prior = float((w[:len(acted)] * np.array(labels)).sum() / w[:len(acted)].sum())
    assert prior == pytest.approx(0.0, abs=1e-9)  # the unbalanced mix would give -0.6
    mosi = w[len(acted):]
    assert np.allclose(mosi, mosi[0])  # a natural corpus keeps its own mix
