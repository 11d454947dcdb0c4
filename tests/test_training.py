"""The training engine: a 2-epoch run on tiny caches that the test writes, end to end."""

import numpy as np
import pytest

from msa_demo.corpora.cache import CACHE_FORMAT, shard_name, write_index, write_shard
from msa_demo.features.spec import FEATURE_DIMS, FEATURE_SPEC_ID
from msa_demo.features.types import ModalityFeatures


def _write_tiny_cache(folder, corpus, modality, n_per_split=12, seed=0):
    """Random features whose first dimension carries the label, so there is something to learn."""
    rng = np.random.default_rng(seed)
    rows, features = [], []
    for split in ("train", "valid", "test"):
        for i in range(n_per_split):
            label = float(rng.choice([-1.5, 0.0, 1.5]))
            length = int(rng.integers(3, 9))
            values = rng.standard_normal((length, FEATURE_DIMS[modality])).astype(np.float32)
            values[:, 0] += label
            times = np.stack([np.arange(length), np.arange(length) + 1], 1) * 0.1
            rows.append({"id": f"{corpus}-{split}-{i}", "split": split, "group": "", "label": label,
                         "label_class": "", "label_detail": "", "text": "", "text_source": "",
                         "source": "", "shard": shard_name(0), "row": len(rows), "face_fraction": 0.0,
                         "voiced_fraction": 0.0, "duration": 0.0, "notices": ""})
            features.append({modality: ModalityFeatures(values, np.ones(length, bool), times)})
    write_shard(folder / shard_name(0), rows, features, FEATURE_DIMS, FEATURE_SPEC_ID, corpus)
    write_index(folder, rows, {"format": CACHE_FORMAT, "feature_spec_id": FEATURE_SPEC_ID,
                               "corpus": corpus, "complete": True})


@pytest.fixture(scope="module")
def tiny_caches(tmp_path_factory):
    root = tmp_path_factory.mktemp("caches")
    _write_tiny_cache(root / "mosi", "mosi", "text", seed=1)
    _write_tiny_cache(root / "ravdess", "ravdess", "audio", seed=2)
    _write_tiny_cache(root / "fer2013", "fer2013", "visual", seed=3)
    return root


@pytest.mark.parametrize("model_name", ["late_fusion", "derl"])
def test_two_epoch_run_writes_a_loadable_checkpoint(tiny_caches, tmp_path, model_name):
    from msa_demo.models import load_checkpoint
    from training.config import TrainConfig
    from training.train import train

    cfg = TrainConfig(corpora=["mosi", "ravdess", "fer2013"], max_epochs=2, samples_per_epoch=32,
                      batch_size=8, composites=8, patience=5)
    result = train(model_name, cfg, seed=1111, cache_root=tiny_caches, out=tmp_path, progress=False)
    assert result["epochs"] == 2
    assert np.isfinite(result["best_val_loss"])
    assert {"val/mosi_mae", "val/ravdess_pol3", "val/fer2013_mae"} <= set(result["history"][0])
    model, card = load_checkpoint(result["checkpoint"])
    assert card["seed"] == 1111 and card["model"] == model_name
    assert card["metrics"]["validation"]["val/loss"] == pytest.approx(result["best_val_loss"])
    assert card["training"]["max_epochs"] == 2 and model.stats_fitted
    names = [c["name"] for c in card["corpora"]]
    assert "mosi" in names and any("synthetic" in n for n in names)


def test_early_stopping_waits_for_min_epochs(tiny_caches, tmp_path):
    """With nothing to learn (lr 0) and patience 1 a run stops after 2 epochs; min_epochs holds it
    on, so a voice that starts to learn late is not cut off (mmmie seed 1112 was)."""
    from training.config import TrainConfig
    from training.train import train

    epochs = {}
    for min_epochs in (0, 4):
        cfg = TrainConfig(corpora=["mosi", "ravdess"], max_epochs=8, samples_per_epoch=16, batch_size=8,
                          composites=0, valid_composites=0, patience=1, lr=0.0, min_epochs=min_epochs)
        result = train("late_fusion", cfg, seed=1111, cache_root=tiny_caches, out=tmp_path / str(min_epochs),
                       progress=False)
        epochs[min_epochs] = result["epochs"]
    assert epochs == {0: 2, 4: 4}


def test_composites_are_tri_modal_training_items(tiny_caches):
    # agreement rates and conflicts: tests/test_training_rows.py
    from training.data import load_examples, make_composites

    train_set = load_examples(tiny_caches, ["mosi", "ravdess", "fer2013"], "train")
    composites = make_composites(train_set, 20, seed=0)
    by_id = {ex.id: ex for ex in train_set}
    assert len(composites) == 20
    for ex in composites:
        assert set(ex.features) == {"text", "audio", "visual"} and ex.split == "train"
        assert ex.domain == -1
        parts = [by_id[i] for i in ex.id.split(":", 1)[1].split("+")]
        assert [p.corpus for p in parts] == ["mosi", "ravdess", "fer2013"]


def test_unknown_setting_is_refused(tmp_path):
    from training.config import TrainConfig

    path = tmp_path / "cfg.json"
    path.write_text('{"learning_rate": 0.1}')
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.load(path)


def test_evaluate_and_report_on_tiny_caches(tiny_caches, tmp_path):
    import json

    from training.config import TrainConfig
    from training.evaluate import main as evaluate_main
    from training.report import main as report_main
    from training.train import train

    cfg = TrainConfig(corpora=["mosi", "ravdess", "fer2013"], max_epochs=1, samples_per_epoch=16,
                      batch_size=8, composites=0)
    for seed in (1111, 1112):
        train("early_fusion", cfg, seed=seed, cache_root=tiny_caches, out=tmp_path / "runs", progress=False)
    eval_path = tmp_path / "eval.jsonl"
    assert evaluate_main(["--runs", str(tmp_path / "runs"), "--cache-root", str(tiny_caches),
                          "--corpora", "mosi,ravdess,fer2013", "--out", str(eval_path)]) == 0
    # domain generalisation: trained without MOSI, tested on MOSI
    dg_cfg = TrainConfig(corpora=["ravdess", "fer2013"], max_epochs=1, samples_per_epoch=16, batch_size=8,
                         composites=0)
    train("early_fusion", dg_cfg, seed=1111, cache_root=tiny_caches, out=tmp_path / "runs-dg", progress=False)
    dg_path = tmp_path / "eval-dg.jsonl"
    assert evaluate_main(["--runs", str(tmp_path / "runs-dg"), "--cache-root", str(tiny_caches),
                          "--corpora", "mosi", "--out", str(dg_path)]) == 0
    assert report_main(["--eval", str(eval_path), str(dg_path), "--out", str(tmp_path / "reports")]) == 0
    all_rows = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    unseen = [r for r in all_rows if r["setting"] == "unseen corpus"]
    assert unseen and {r["corpus"] for r in unseen} == {"mosi"} and {r["n_seeds"] for r in unseen} == {1}
    assert "Domain generalisation" in (tmp_path / "reports" / "metrics.md").read_text()
    assert report_main(["--eval", str(eval_path), "--out", str(tmp_path / "reports")]) == 0
    rows = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    keys = {"model", "corpus", "split", "metric", "mean", "std", "n_seeds", "condition"}
    assert rows and all(keys <= set(r) for r in rows)
    assert {r["split"] for r in rows} == {"test"} and {r["n_seeds"] for r in rows} == {2}
    conditions = {r["condition"] for r in rows if r["corpus"] == "mosi"}
    assert len([c for c in conditions if c.startswith("subset:")]) == 7
    assert len([c for c in conditions if c.startswith("missing:")]) == 10
    assert {"acc2_non0", "mae", "corr", "acc7"} <= {r["metric"] for r in rows if r["corpus"] == "mosi"}
    assert {"valence3_acc", "valence3_f1"} <= {r["metric"] for r in rows if r["corpus"] == "fer2013"}
    # MOSI items carry text only: switching the (absent) audio and visual off must change nothing
    mosi = {(r["condition"], r["metric"]): r["mean"] for r in rows if r["corpus"] == "mosi"}
    for metric in ("mae", "acc2_has0"):
        assert mosi[("subset:text", metric)] == pytest.approx(mosi[("clean", metric)])
    assert "mosi — clean" in (tmp_path / "reports" / "metrics.md").read_text()

    # shipping: the seed with the lowest validation loss, its test metrics added to the card
    from msa_demo.models import load_checkpoint, read_card
    from training.ship import main as ship_main

    assert ship_main(["--runs", str(tmp_path / "runs"), "--eval", str(eval_path),
                      "--metrics", str(tmp_path / "reports" / "metrics.json"),
                      "--out", str(tmp_path / "checkpoints")]) == 0
    model, card = load_checkpoint(tmp_path / "checkpoints" / "early_fusion.safetensors")
    runs = {s: read_card(tmp_path / "runs" / "early_fusion" / f"seed{s}.safetensors") for s in (1111, 1112)}
    best_seed = min(runs, key=lambda s: runs[s]["metrics"]["validation"]["val/loss"])
    assert card["seed"] == best_seed and "validation loss" in card["selection"]
    assert card["metrics"]["test"]["mosi"]["mae"] == pytest.approx(
        next(r["value"] for r in map(json.loads, eval_path.read_text().splitlines())
             if r["seed"] == best_seed and r["corpus"] == "mosi" and r["condition"] == "clean"
             and r["metric"] == "mae"))
    assert card["metrics"]["test_over_seeds"]["mosi"]["mae"]["n_seeds"] == 2
    assert json.loads((tmp_path / "checkpoints" / "early_fusion.json").read_text()) == card


def test_comparison_with_the_better_baseline():
    from training.report import compare_with_baselines

    def row(model, mean, std, metric="acc2_non0", condition="clean", setting="in-domain"):
        return {"model": model, "corpus": "mosi", "split": "test", "metric": metric, "mean": mean,
                "std": std, "n_seeds": 3, "condition": condition, "setting": setting}

    rows = [row("late_fusion", 0.80, 0.01), row("early_fusion", 0.82, 0.01), row("midg", 0.85, 0.01),
            row("derl", 0.825, 0.01),
            row("late_fusion", 0.90, 0.02, "mae"), row("early_fusion", 0.85, 0.02, "mae"),
            row("midg", 0.95, 0.01, "mae")]
    found = {(c["model"], c["metric"]): c for c in compare_with_baselines(rows)}
    midg = found[("midg", "acc2_non0")]
    assert midg["baseline"] == "early_fusion" and midg["delta"] == pytest.approx(0.03)
    assert midg["verdict"] == "better"  # 0.03 > hypot(0.01, 0.01)
    assert found[("derl", "acc2_non0")]["verdict"] == "no clear difference"
    mae = found[("midg", "mae")]  # lower is better: the better baseline is early_fusion's 0.85
    assert mae["baseline"] == "early_fusion" and mae["verdict"] == "worse"


def test_feature_probe_finds_the_signal_in_a_small_cache(tmp_path):
    import torch

    from training.probe import probe

    # the label is added to feature 0 (enough items that 111 noise dimensions cannot be memorised):
    # every probe must beat the majority class
    _write_tiny_cache(tmp_path / "fer2013", "fer2013", "visual", n_per_split=600, seed=4)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = probe(tmp_path, "fer2013", "visual", seed=1111, steps=1000)
    finally:
        torch.set_num_threads(threads)
    assert set(result) == {"majority", "linear", "mlp-classes", "mlp-score"}
    assert all(0.0 <= v <= 1.0 for v in result.values())
    assert min(result["linear"], result["mlp-classes"], result["mlp-score"]) > result["majority"] + 0.15
