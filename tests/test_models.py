"""The six models and their plumbing: batches, missing data, the output contract, invariance to
absent modalities, losses and gradients, checkpoints. CPU, tiny configs, random features."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from msa_demo.features.spec import AUDIO_DIM, FEATURE_DIMS, FEATURE_SPEC_ID, MODALITIES, VISUAL_DIM
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import (CheckpointError, FeatureSpecMismatch, apply_missing, collate,
                             count_parameters, create_model, feature_stats, list_models,
                             load_checkpoint, read_card, sample_modality_dropout,
                             sample_training_rates, save_checkpoint)
from msa_demo.models.batch import with_fields
from msa_demo.models.encoders import SequenceEncoder
from msa_demo.models.layers import masked_mean, masked_softmax
from msa_demo.models.objectives import info_nce, irm_penalty, regression_loss

pytestmark = pytest.mark.usefixtures("one_thread")

MODELS = ["derl", "early_fusion", "late_fusion", "midg", "misr", "mmmie"]
SUBSETS = [s for k in (1, 2, 3) for s in itertools.combinations(MODALITIES, k)]
TINY = dict(d=32, heads=2, dropout=0.1)
TINY_EXTRA = {"midg": dict(adapter_dim=16, adapter_heads=2), "misr": dict(latent=8),
              "mmmie": dict(fusion_layers=1)}
EXPECTED_LOSSES = {
    "late_fusion": set(), "early_fusion": set(),
    "midg": {"balance", "irm", "route_inv"},
    "derl": {"orth", "align", "balance", "unimodal", "rec_feature", "rec_modality", "rec_fused"},
    "misr": {"kl", "consistency", "env_risk", "invariance"},
    "mmmie": {"mi_min", "mi_max"},
}


def tiny(name: str, seed: int = 0):
    torch.manual_seed(seed)
    return create_model(name, **TINY, **TINY_EXTRA.get(name, {}))


def feature(m: str, length: int, rng: np.random.Generator, observed: float = 1.0) -> ModalityFeatures:
    mask = rng.random(length) < observed
    mask[0] = True
    return ModalityFeatures(rng.normal(size=(length, FEATURE_DIMS[m])), mask, np.zeros((length, 2)))


def samples(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"text": feature("text", int(rng.integers(3, 12)), rng),
             "audio": feature("audio", int(rng.integers(20, 80)), rng),
             "visual": feature("visual", int(rng.integers(4, 16)), rng, observed=0.8)} for _ in range(n)]


def full_batch(n: int = 7, seed: int = 0):
    rng = np.random.default_rng(seed + 100)
    return collate(samples(n, seed), labels=rng.uniform(-3, 3, n).round(1), domains=np.arange(n) % 2)


def subset_rows(n: int) -> torch.Tensor:
    """[n, 3] presence flags cycling through the 7 non-empty subsets."""
    return torch.tensor([[m in SUBSETS[i % len(SUBSETS)] for m in MODALITIES] for i in range(n)])


def assert_outputs_equal(a, b) -> None:
    torch.testing.assert_close(a.score, b.score, rtol=0, atol=1e-6)
    for group in ("unimodal", "routing"):
        x, y = getattr(a, group), getattr(b, group)
        assert x.keys() == y.keys()
        for key in x:
            torch.testing.assert_close(x[key], y[key], rtol=0, atol=1e-6, msg=f"{group}[{key}]")


# --- batches and missing data ------------------------------------------------------------------


def test_collate_pads_ragged_samples_and_marks_absence():
    rng = np.random.default_rng(1)
    items = [
        {"text": feature("text", 5, rng), "audio": feature("audio", 50, rng)},
        {"text": feature("text", 9, rng), "visual": ModalityFeatures.absent(FEATURE_DIMS["visual"])},
        {"visual": feature("visual", 3, rng)},
    ]
    batch = collate(items, labels=[0.5, -1.0, 2.0])
    assert batch.text.shape == (3, 9, 384) and batch.audio.shape == (3, 50, AUDIO_DIM)
    assert batch.visual.shape == (3, 3, VISUAL_DIM)
    assert batch.present.tolist() == [[True, True, False], [True, False, False], [False, False, True]]
    assert batch.text_mask.sum(1).tolist() == [5, 9, 0]
    assert torch.equal(batch.text[0, :5], torch.from_numpy(items[0]["text"].values))
    assert (batch.text[0, 5:] == 0).all() and (batch.audio[1:] == 0).all()
    assert batch.label.tolist() == [0.5, -1.0, 2.0] and batch.domain is None
    # a modality with no observed step (a clip without a face) counts as absent; no empty tensors
    no_face = ModalityFeatures(np.ones((4, VISUAL_DIM)), np.zeros(4, bool), np.zeros((4, 2)))
    single = collate([{"text": feature("text", 4, rng), "visual": no_face}])
    assert single.present.tolist() == [[True, False, False]]
    assert single.audio.shape == (1, 1, AUDIO_DIM) and (single.visual == 0).all()


def test_collate_rejects_wrong_width():
    bad = ModalityFeatures(np.zeros((4, 10)), np.ones(4, bool), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="width"):
        collate([{"audio": bad}])


def test_apply_missing_is_deterministic_nested_and_keeps_cls_sep():
    batch = full_batch(5)
    drop = lambda seed, rate: apply_missing(batch, rate=rate, generator=torch.Generator().manual_seed(seed))
    a, b, c = drop(7, 0.5), drop(7, 0.5), drop(8, 0.5)
    for m in MODALITIES:
        assert torch.equal(a.mask(m), b.mask(m)) and torch.equal(a.values(m), b.values(m))
        assert (a.values(m)[~a.mask(m)] == 0).all()
        assert not (a.mask(m) & ~batch.mask(m)).any()  # never un-masks
    assert any(not torch.equal(a.mask(m), c.mask(m)) for m in MODALITIES)
    assert a.complete is batch and drop(7, 0.2).complete is batch
    assert apply_missing(a, rate=0.1).complete is batch  # chained drops keep the original
    # one seed, growing rates: the dropped sets are nested
    low, high = drop(3, 0.3), drop(3, 0.7)
    for m in MODALITIES:
        assert not (high.mask(m) & ~low.mask(m)).any()
    # rate 0 changes nothing; rate 1 leaves text's first and last token and one audio/visual step
    zero, one = drop(0, 0.0), drop(0, 1.0)
    for m in MODALITIES:
        assert torch.equal(zero.mask(m), batch.mask(m)) and torch.equal(zero.values(m), batch.values(m))
    lengths = batch.text_mask.sum(1)
    assert one.text_mask.sum(1).tolist() == [2] * 5
    assert one.text_mask[torch.arange(5), lengths - 1].all() and one.text_mask[:, 0].all()
    assert one.audio_mask.sum(1).tolist() == [1] * 5 and one.visual_mask.sum(1).tolist() == [1] * 5
    assert one.present.all()
    # the step kept at rate 1 is kept at every lower rate (nesting holds down to one step)
    for m in ("audio", "visual"):
        assert not (one.mask(m) & ~drop(0, 0.6).mask(m)).any()


def test_apply_missing_present_and_rate_forms():
    batch = full_batch(4)
    by_name = apply_missing(batch, present=["audio"])
    assert by_name.present.tolist() == [[False, True, False]] * 4
    assert not by_name.text_mask.any() and (by_name.text == 0).all()
    assert torch.equal(apply_missing(batch, present=[False, True, False]).present, by_name.present)
    rows = torch.tensor([[True, False, True], [False, True, False], [True, True, True], [False, False, True]])
    assert torch.equal(apply_missing(batch, present=rows).present, rows & batch.present)
    per_modality = apply_missing(batch, rate={"audio": 1.0}, generator=torch.Generator().manual_seed(0))
    assert per_modality.audio_mask.sum(1).tolist() == [1] * 4  # a step drop never empties a modality
    assert torch.equal(per_modality.text_mask, batch.text_mask)
    per_sample = apply_missing(batch, rate=torch.tensor([0.0, 1.0, 0.0, 1.0]))
    assert torch.equal(per_sample.audio_mask[0], batch.audio_mask[0]) and per_sample.audio_mask[1].sum() == 1
    with pytest.raises(ValueError, match="unknown modalities"):
        apply_missing(batch, present=["speech"])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        apply_missing(batch, rate=1.5)


def test_training_samplers_are_seeded_and_never_drop_everything():
    g = lambda: torch.Generator().manual_seed(4)
    rates = sample_training_rates(1000, g())
    assert torch.equal(rates, sample_training_rates(1000, g()))
    assert 0.4 < (rates == 0).float().mean() < 0.6 and rates.max() < 1
    present = torch.ones(1000, 3, dtype=torch.bool)
    present[::2, 1] = False
    kept = sample_modality_dropout(present, 0.9, g())
    assert kept.any(1).all() and not (kept & ~present).any()


def test_feature_stats_use_observed_steps_only():
    batch = full_batch(6)
    stats = feature_stats([batch.select([0, 1, 2]), batch.select([3, 4, 5])])
    for m in MODALITIES:
        rows = batch.values(m)[batch.observed(m)].double()
        torch.testing.assert_close(stats[m][0], rows.mean(0).float(), atol=1e-5, rtol=0)
        torch.testing.assert_close(stats[m][1], rows.std(0, unbiased=False).float(), atol=1e-5, rtol=0)


# --- shared pieces ------------------------------------------------------------------------------


def test_masked_helpers_give_zeros_for_empty_rows():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, False, True, False], [False] * 4])
    pooled = masked_mean(x, mask)
    torch.testing.assert_close(pooled[0], x[0, [0, 2]].mean(0))
    assert torch.equal(pooled[1], torch.zeros(3))
    weights = masked_softmax(torch.randn(2, 3), torch.tensor([[True, False, True], [False] * 3]))
    assert weights[0, 1] == 0 and torch.isclose(weights[0].sum(), torch.tensor(1.0))
    assert torch.equal(weights[1], torch.zeros(3))


def test_audio_encoder_pools_a_minute_to_ten_steps_per_second():
    encoder = SequenceEncoder(35, 16, layers=1, heads=2, dropout=0.0, pool=5)
    mask = torch.ones(1, 3000, dtype=torch.bool)
    encoded = encoder(torch.randn(1, 3000, 35), mask)
    assert encoded.tokens.shape == (1, 600, 16) and encoded.mask.all()
    absent = encoder(torch.randn(2, 7, 35), torch.zeros(2, 7, dtype=torch.bool))
    assert torch.equal(absent.pooled, torch.zeros(2, 16)) and torch.isfinite(absent.tokens).all()


@pytest.mark.parametrize("kind", ["l1", "mse"])
def test_irm_penalty_matches_autograd(kind):
    pred, target = torch.randn(10), torch.randn(10)
    envs = [torch.arange(10) < 4, torch.arange(10) >= 4]
    scale = torch.ones((), requires_grad=True)
    grads = [torch.autograd.grad(regression_loss(scale * pred[e], target[e], kind).mean(), scale)[0]
             for e in envs]
    expected = torch.stack(grads).pow(2).mean()
    torch.testing.assert_close(irm_penalty(pred, target, envs, kind), expected)


def test_info_nce_needs_two_rows():
    a, b = torch.randn(4, 8), torch.randn(4, 8)
    assert info_nce(a, b, torch.tensor([True, False, False, False])) == 0
    every = torch.ones(4, dtype=torch.bool)
    assert info_nce(a, a, every, 0.05) < info_nce(a, b, every, 0.05)


# --- the six models -----------------------------------------------------------------------------


def test_registry_has_the_six_models():
    assert list_models() == MODELS
    with pytest.raises(KeyError, match="unknown model"):
        create_model("mult")
    with pytest.raises(TypeError, match="bad config"):
        create_model("midg", expertz=3)


@pytest.mark.parametrize("name", MODELS)
def test_forward_on_every_subset_and_frame_drops(name):
    model = tiny(name).eval()
    batch = full_batch(4)
    with torch.no_grad():
        for subset in SUBSETS:
            for rate in (0.0, 0.6):
                g = torch.Generator().manual_seed(1)
                out = model(apply_missing(batch, present=subset, rate=rate, generator=g))
                assert out.score.shape == (4,) and torch.isfinite(out.score).all(), (subset, rate)
                assert (out.score.abs() <= 3.0).all()
                for key, value in {**out.routing, **out.unimodal}.items():
                    assert value.shape[0] == 4 and torch.isfinite(value).all(), (subset, key)
                assert out.losses == {}  # eval mode computes no auxiliary losses
        # nothing present at all still gives finite numbers
        out = model(apply_missing(batch, present=[]))
        assert torch.isfinite(out.score).all()


@pytest.mark.parametrize("name", MODELS)
def test_losses_are_finite_and_gradients_flow(name):
    model = tiny(name).train()
    g = torch.Generator().manual_seed(5)
    batch = full_batch(8)
    present = sample_modality_dropout(batch.present, 0.3, g)
    present[0] = torch.tensor([True, True, True])
    incomplete = apply_missing(batch, present=present, rate=sample_training_rates(8, g), generator=g)
    out = model(incomplete)
    assert set(out.losses) == EXPECTED_LOSSES[name]
    assert out.logs.keys() == out.losses.keys()
    for key, value in out.losses.items():
        assert value.ndim == 0 and torch.isfinite(value), key
    loss = model.task_loss(out.score, incomplete.label).mean() + out.aux_loss()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)
    assert sum(float(gr.abs().sum()) for gr in grads) > 0
    # labels are optional: label-free terms only
    model.zero_grad()
    unlabelled = model(with_fields(incomplete, label=None, domain=None), with_losses=True)
    assert all(torch.isfinite(v) for v in unlabelled.losses.values())


@pytest.mark.parametrize("name", MODELS)
def test_absent_modalities_and_dropped_steps_do_not_influence_outputs(name):
    model = tiny(name).eval()
    batch = apply_missing(full_batch(7), present=subset_rows(7), rate=0.4,
                          generator=torch.Generator().manual_seed(2))
    noise = torch.Generator().manual_seed(3)
    changes = {}
    for j, m in enumerate(MODALITIES):
        hidden = ~batch.observed(m)  # absent modality or dropped step
        junk = torch.randn(batch.values(m).shape, generator=noise) * 10
        changes[m] = torch.where(hidden.unsqueeze(-1), junk, batch.values(m))
        # absent rows even claim observed steps
        changes[f"{m}_mask"] = batch.mask(m) | ~batch.present[:, j, None]
    tampered = with_fields(batch, **changes)
    with torch.no_grad():
        assert_outputs_equal(model(batch), model(tampered))


@pytest.mark.parametrize("name", MODELS)
def test_a_score_does_not_depend_on_the_batch_it_is_in(name):
    """Padding to the batch's longest sample must not change anyone's output: the app scores one
    clip at a time, evaluation scores batches."""
    model = tiny(name).eval()
    items = samples(5, seed=4)
    with torch.no_grad():
        together = model(collate(items))
        for i, item in enumerate(items):
            alone = model(collate([item]))
            torch.testing.assert_close(alone.score, together.score[i:i + 1], rtol=0, atol=1e-5)
            for m, value in alone.unimodal.items():
                torch.testing.assert_close(value, together.unimodal[m][i:i + 1], rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_checkpoint_round_trip(name, tmp_path):
    model = tiny(name)
    batch = full_batch(5)
    model.set_feature_stats(feature_stats([batch]))
    model.eval()
    corpora = [{"name": "CMU-MOSI", "licence": "research"}]
    path = save_checkpoint(model, tmp_path / f"{name}.safetensors", corpora=corpora, seed=1111,
                           metrics={"mae": 0.9})
    loaded, card = load_checkpoint(path)
    assert not loaded.training and loaded.stats_fitted
    assert card["model"] == name and card["config"] == model.config_dict()
    assert card["feature_spec_id"] == FEATURE_SPEC_ID and card["seed"] == 1111
    assert card["corpora"] == corpora
    assert json.loads(path.with_suffix(".json").read_text()) == card == read_card(path)
    incomplete = apply_missing(batch, present=subset_rows(5), rate=0.3,
                               generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert_outputs_equal(model(incomplete), loaded(incomplete))


def test_checkpoint_of_another_feature_spec_is_refused(tmp_path):
    path = save_checkpoint(tiny("late_fusion"), tmp_path / "old.safetensors",
                           feature_spec_id="msa-v0-deadbeef")
    with pytest.raises(FeatureSpecMismatch) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert "msa-v0-deadbeef" in message and FEATURE_SPEC_ID in message and "retrain" in message
    ours = save_checkpoint(tiny("late_fusion"), tmp_path / "ours.safetensors")
    with pytest.raises(FeatureSpecMismatch):
        load_checkpoint(ours, feature_spec_id="msa-v2-00000000")


def test_non_safetensors_checkpoint_is_refused_without_unpickling(tmp_path):
    pickled = tmp_path / "model.safetensors"
    torch.save({"weights": torch.zeros(2)}, pickled)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(pickled)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_default_models_are_small():
    for name in MODELS:
        size_mb = count_parameters(create_model(name)) * 4 / 2**20
        assert size_mb < 6, (name, size_mb)


def test_midg_routing_spread_is_zero_for_alike_corpora_and_grows_when_experts_split_by_corpus():
    from msa_demo.models.midg import routing_spread

    corpus = torch.tensor([0] * 8 + [1] * 8)
    envs = [corpus == 0, corpus == 1]
    alike = torch.full((16, 4), 0.25)
    split = torch.cat([torch.tensor([[0.94, 0.02, 0.02, 0.02]]).expand(8, 4),
                       torch.tensor([[0.02, 0.94, 0.02, 0.02]]).expand(8, 4)])
    assert float(routing_spread(alike, envs)) == pytest.approx(0.0)
    assert float(routing_spread(split, envs)) > 1.0
    assert float(routing_spread(split, [corpus == 0, corpus == 1, torch.zeros(16, dtype=torch.bool)])) > 1.0


def test_derl_reconstructs_dropped_steps_only():
    """rec_feature is 0 when nothing was dropped (a copy is no reconstruction) and > 0 when steps were."""
    model = tiny("derl").train()
    batch = full_batch(6)
    nothing_dropped = apply_missing(batch, rate=0.0)
    assert float(model(nothing_dropped).losses["rec_feature"]) == 0.0
    g = torch.Generator().manual_seed(1)
    dropped = apply_missing(batch, rate=0.5, generator=g)
    assert float(model(dropped).losses["rec_feature"]) > 0.0
