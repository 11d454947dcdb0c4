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


def test_composites_match_polarity(tiny_caches):
    from msa_demo.corpora.labels import polarity3_index
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
        polarities = set(polarity3_index([p.label for p in parts] + [ex.label]).tolist())
        assert len(polarities) == 1  # voice, face and words agree, and so does the label


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
