"""The out-of-distribution guard: calibrated on held-out data it leaves in-distribution inputs alone,
cuts the weight of far-away ones, survives a save/load, and the blended game keeps Shapley exact."""

import json

import numpy as np
import pytest
import torch

from msa_demo.explain import shapley_values
from msa_demo.explain.blend import blended_game
from msa_demo.features.spec import FEATURE_DIMS
from msa_demo.features.types import ModalityFeatures
from msa_demo.models.ood import ModalityGuard, OODGuard, fit_guard, guard_path
from synthetic_cache import write_caches

SPEC = "test-spec-ood"


def _low_rank_data(n, d=64, rank=5, seed=0):
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).standard_normal((rank, d)) * 3
    return rng.standard_normal((n, rank)) @ basis + 0.5 * rng.standard_normal((n, d)) + 10.0


def test_guard_keeps_held_out_inputs_and_cuts_far_ones():
    guard = ModalityGuard.fit(_low_rank_data(2000, seed=0)).calibrate(_low_rank_data(1000, seed=1))
    fresh = _low_rank_data(2000, seed=2)
    weights = np.array([guard.weight(s) for s in guard.score(fresh)])
    assert weights.mean() > 0.98 and 0.002 < (weights < 1).mean() < 0.04  # ~1 % above q99
    shifted = fresh[:200] + 3.0  # a constant offset on every dimension (e.g. another microphone)
    noisy = fresh[:200] + np.random.default_rng(3).standard_normal((200, 64)) * 2.0
    for far in (shifted, noisy):
        assert max(guard.weight(s) for s in guard.score(far)) < 0.5  # every one loses half its say or more
    # the weight falls as the input moves away
    steps = [guard.weight(guard.score(fresh[0] + k * 0.5)[0]) for k in range(8)]
    assert steps == sorted(steps, reverse=True) and steps[0] == 1.0 and steps[-1] < 0.2


def test_save_and_load_keep_scores_and_refuse_another_spec(tmp_path):
    x = _low_rank_data(500)
    guard = fit_guard({"audio": x}, {"audio": _low_rank_data(200, seed=1)}, SPEC)
    path = guard.save(guard_path(tmp_path, SPEC))
    assert path.name == f"ood-{SPEC}.safetensors"
    loaded = OODGuard.load(path, spec_id=SPEC)
    np.testing.assert_allclose(loaded.guards["audio"].score(x[:20]), guard.guards["audio"].score(x[:20]), rtol=1e-4)
    assert loaded.guards["audio"].q99 == pytest.approx(guard.guards["audio"].q99)
    with pytest.raises(ValueError, match="calibrated for spec"):
        OODGuard.load(path, spec_id="another-spec")


def test_blended_game_is_a_game_with_exact_shapley():
    rng = np.random.default_rng(0)
    v = rng.normal(size=8).tolist()
    assert blended_game(v, [1, 1, 1]) == pytest.approx(v)
    w = [1.0, 0.3, 1.0]  # audio (bit 1) down-weighted
    b = blended_game(v, w)
    assert b[0] == v[0]  # the baseline does not move
    assert b[7] == pytest.approx(0.3 * v[7] + 0.7 * v[5])  # score with and without audio, blended
    phi = shapley_values(b)
    assert b[0] + sum(phi) == pytest.approx(b[7], abs=1e-12)
    zero = shapley_values(blended_game(v, [1.0, 0.0, 1.0]))
    assert zero[1] == 0.0 or abs(zero[1]) < 1e-12  # weight 0: no say at all
    # a smaller weight never raises the modality's share of the explanation here
    shares = [abs(shapley_values(blended_game(v, [1, wa, 1]))[1]) for wa in (1.0, 0.6, 0.2)]
    assert shares == sorted(shares, reverse=True)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    from training.calibrate_ood import calibrate

    root = write_caches(tmp_path_factory.mktemp("ood") / "cache", n_per_split=60, seed=5)
    for meta_path in root.glob("*/meta.json"):  # a spec other than the running one, as after a re-extraction
        meta = json.loads(meta_path.read_text())
        meta["feature_spec_id"] = SPEC
        meta_path.write_text(json.dumps(meta))
    out = root.parent / "checkpoints"
    path, summary = calibrate(root, out)
    return root, path, summary


def test_calibration_command_reads_any_spec_and_covers_each_modality(calibrated):
    from training.calibrate_ood import main

    root, path, summary = calibrated
    assert path.name == f"ood-{SPEC}.safetensors" and path.is_file()
    assert set(summary) == {"text", "audio", "visual"}
    assert summary["audio"]["corpora"] == ["ravdess"] and summary["visual"]["corpora"] == ["fer2013"]
    assert summary["text"]["calibrated_on"] == "validation" and summary["text"]["n_calibration"] == 60
    assert summary["audio"]["validation_reduced_share"] <= 0.05
    assert main(["--cache", str(root / "nothing-here")]) == 2


def _features(item, scale=1.0, offset=0.0):
    f = item.features["audio"]
    return {"audio": ModalityFeatures(f.values * scale + offset, f.mask, f.times)}


def test_analysis_reduces_a_far_voice_and_keeps_shapley_exact(calibrated):
    from msa_demo.analysis import analyze_features
    from msa_demo.corpora.cache import FeatureCache
    from msa_demo.models import create_model

    root, path, _ = calibrated
    guard = OODGuard.load(path)
    torch.manual_seed(0)
    model = create_model("late_fusion").eval()
    test_items = list(FeatureCache(root / "ravdess").iter("test"))
    text = FeatureCache(root / "mosi").get("mosi-test-1").features["text"]

    kept = [analyze_features({**_features(it), "text": text}, model, guard=guard) for it in test_items]
    weights = [r["ood"]["audio"]["weight"] for r in kept]
    assert np.mean(weights) > 0.95 and sum(w < 1 for w in weights) <= 3
    calm = kept[int(np.argmax(weights))]
    assert calm["score"] == calm["score_unguarded"] and not any("unlike" in n for n in calm["notices"])

    loud = analyze_features({**_features(test_items[0], scale=1.0, offset=4.0), "text": text}, model, guard=guard)
    a = loud["ood"]["audio"]
    assert a["weight"] < 0.2 and a["score"] > a["threshold"]
    assert any(n.startswith("voice unlike the training voices: its weight is reduced") for n in loud["notices"])
    assert loud["baseline"] + sum(loud["contributions"].values()) == pytest.approx(loud["score"], abs=1e-9)
    without_voice = analyze_features({"text": text}, model, guard=None)["score"]
    expected = a["weight"] * loud["score_unguarded"] + (1 - a["weight"]) * without_voice
    assert loud["score"] == pytest.approx(expected, abs=1e-6)
    # switched off by the user: no notice, no say, the assessment still reported
    off = analyze_features({**_features(test_items[0], offset=4.0), "text": text}, model, guard=guard,
                           present=["text"])
    assert off["contributions"]["audio"] == 0.0 and not any("unlike" in n for n in off["notices"])
    # no calibration file: no guard, no field content, score as the model gives it
    none = analyze_features({**_features(test_items[0], offset=4.0), "text": text}, model, guard=None)
    assert none["ood"] == {} and none["score"] == none["score_unguarded"]
    assert FEATURE_DIMS["audio"] == test_items[0].features["audio"].values.shape[1]


def test_ood_check_noise_has_the_stated_snr_and_the_report_reads():
    from training.ood_check import markdown, with_noise

    audio = (0.3 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 220)).astype(np.float32)
    noisy = with_noise(audio, 10.0, seed=0)
    snr = 10 * np.log10(np.mean(audio.astype(float) ** 2) / np.mean((noisy - audio).astype(float) ** 2))
    assert abs(snr - 10.0) < 0.3 and with_noise(audio, None, 0) is audio
    guard = fit_guard({"audio": _low_rank_data(100)}, {"audio": _low_rank_data(100, seed=1)}, SPEC)
    rows = [{"input": "RAVDESS valid x clean", "text": None, "visual": None,
             "audio": {"score": 10.0, "threshold": 20.0, "weight": 1.0}},
            {"input": "RAVDESS valid x white noise 0 dB SNR", "text": None, "visual": None,
             "audio": {"score": 80.0, "threshold": 20.0, "weight": 0.5}}]
    md = markdown(rows, guard)
    assert "| RAVDESS valid x clean | — | 1.00 (10 / 20) | — |" in md
    assert "clean: 1.00; white noise 0 dB SNR: 0.50" in md
