"""The composite test / validation sets: built from their own split only, scored by whether the
prediction follows the text where it should, carried through evaluate and report, and optional."""

import json

import numpy as np
import pytest

from synthetic_cache import write_caches, write_corpus

NEG, NEU, POS = 0, 1, 2


def test_observed_patterns():
    from training.composites import observed_pattern

    assert observed_pattern((POS, POS, POS)) == "agree"
    assert observed_pattern((POS, NEG, POS)) == "one_dissent"
    assert observed_pattern((POS, POS, NEU)) == "one_dissent"
    assert observed_pattern((POS, NEG, NEU)) == "three_way"  # should follow the text
    assert observed_pattern((POS, NEG, NEG)) == "voice_face_vs_text"


def test_follow_text_separates_a_text_reader_from_a_voice_reader():
    from training.composite_eval import composite_metrics

    rng = np.random.default_rng(0)
    shown = rng.integers(0, 3, (600, 3))
    label = np.array([(-1.5, 0.0, 1.5)[t] for t in shown[:, 0]])
    text_reader = np.array([(-2.0, 0.1, 2.0)[t] for t in shown[:, 0]])
    voice_reader = np.array([(-2.0, 0.1, 2.0)[a] for a in shown[:, 1]])
    by_text = composite_metrics(text_reader, label, shown)
    by_voice = composite_metrics(voice_reader, label, shown)
    assert by_text["follow_text"] == 1.0 and by_text["valence3_acc"] == 1.0
    assert by_voice["follow_text"] < 0.6 and by_voice["follow_text:three_way"] == 0.0
    assert by_voice["follow_text:agree"] == 1.0
    assert sum(by_text[f"n:{p}"] for p in ("agree", "one_dissent", "three_way", "voice_face_vs_text")) == 600


@pytest.fixture(scope="module")
def caches(tmp_path_factory):
    return write_caches(tmp_path_factory.mktemp("composite"), n_per_split=15)


def test_held_out_sets_use_their_own_split_only(caches):
    from training.composite_eval import composite_set

    for split in ("test", "valid"):
        examples = composite_set(caches, split, 200, seed=1)
        assert len(examples) == 200
        for ex in examples:
            parts = ex.id.split(":", 1)[1].split("+")
            assert all(f"-{split}-" in p for p in parts), ex.id
            assert ex.split == split and ex.corpus == "composite" and len(ex.shown) == 3
    # the same seed gives the same set (every model is judged on the same composites)
    assert [e.id for e in composite_set(caches, "test", 50, 3)] == [e.id for e in composite_set(caches, "test", 50, 3)]


def test_validation_loss_counts_the_composites():
    from training.module import validation_metrics

    score = np.array([0.0, 0.0, 1.5, 1.5])
    label = np.array([0.0, 0.0, -1.5, -1.5])
    domain = np.array([0, 0, -1, -1])
    m = validation_metrics(score, label, domain)
    assert m["val/composite_mae"] == 3.0 and m["val/mosi_mae"] == 0.0
    assert m["val/loss"] == 1.5  # the composites are one "corpus" of the mean


def test_evaluate_and_report_with_and_without_the_composite_set(caches, tmp_path):
    from training.config import TrainConfig
    from training.evaluate import main as evaluate_main
    from training.report import main as report_main
    from training.train import train

    cfg = TrainConfig(corpora=["mosi", "ravdess", "fer2013"], max_epochs=1, samples_per_epoch=16,
                      batch_size=8, composites=16, valid_composites=30)
    result = train("late_fusion", cfg, seed=1111, cache_root=caches, out=tmp_path / "runs", progress=False)
    assert "val/composite_mae" in result["history"][0]
    out = tmp_path / "eval.jsonl"
    assert evaluate_main(["--runs", str(tmp_path / "runs"), "--cache-root", str(caches),
                          "--corpora", "mosi,composite", "--composite-size", "90", "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    composite = [r for r in records if r["corpus"] == "composite"]
    assert {"clean", "subset:text", "missing:0.5"} <= {r["condition"] for r in composite}
    assert {r["n"] for r in composite} == {90}
    assert any(r["metric"] == "follow_text" and r["condition"] == "clean" for r in composite)
    assert not any(r["metric"].startswith("follow_text") and r["condition"] != "clean" for r in composite)
    assert report_main(["--eval", str(out), "--out", str(tmp_path / "reports")]) == 0
    md = (tmp_path / "reports" / "metrics.md").read_text()
    assert "composite (SYNTHETIC" in md and "does the prediction follow the text" in md
    assert "## mosi — clean" in md

    # no voice corpus: the composite set is skipped with a message, the rest is evaluated and reported
    partial = tmp_path / "partial"
    write_corpus(partial / "mosi", "mosi", "text", 15, seed=1)
    out2 = tmp_path / "eval2.jsonl"
    assert evaluate_main(["--runs", str(tmp_path / "runs"), "--cache-root", str(partial),
                          "--out", str(out2)]) == 0
    records = [json.loads(line) for line in out2.read_text().splitlines()]
    assert records and {r["corpus"] for r in records} == {"mosi"}
    assert report_main(["--eval", str(out2), "--out", str(tmp_path / "reports2")]) == 0
    assert "composite" not in (tmp_path / "reports2" / "metrics.md").read_text()
