"""`python -m training.train_arousal [--cache cache]`: the arousal readers (msa_demo/arousal.py).

Voice: RAVDESS actors 1-16 (with their cached waveform variants; half measured against their
actor's median, half against their own, as the six models are trained), the regularisation chosen on
actors 17-18, scored on actors 19-20 — against their own median (what one upload gets), against
their actor's, and with their words shuffled (`cache/ravdess-shuffled`, made by
`python -m training.shuffled_words --extract`) when that cache exists. Face: FER2013's training
stills, chosen on its validation split, scored on its test split. Arousal labels: the emotion
classes through `corpora.labels.EMOTION_AROUSAL`. Writes checkpoints/arousal.{safetensors,json} and
reports/arousal.md; the floor beside each score is the majority class.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from msa_demo.arousal import CHECKPOINT, clip_statistics
from msa_demo.corpora.cache import OWN, SPEAKER, FeatureCache
from msa_demo.corpora.labels import EMOTION_AROUSAL, emotion_arousal
from msa_demo.features.spec import FEATURE_SPEC_ID
from msa_demo.models.checkpoint import git_commit

from .data import whose_baseline

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
SHUFFLED = "ravdess-shuffled"


def dataset(cache: FeatureCache, split: str, modality: str, baseline) -> tuple[np.ndarray, np.ndarray]:
    """(clip statistics [N, F], arousal labels [N]) of the items with enough `modality` observed."""
    xs, ys = [], []
    for item in cache.iter(split, baseline=baseline):
        stats = clip_statistics(item.features[modality], modality)
        if stats is not None:
            xs.append(stats)
            ys.append(emotion_arousal(item.row["label_class"]))
    return np.array(xs), np.array(ys, int)


def scores(y: np.ndarray, p: np.ndarray, majority: int) -> dict:
    """Accuracy and balanced accuracy of P(high) >= 0.5, with the majority-class floor beside them."""
    guess = (p >= 0.5).astype(int)
    recalls = [float((guess[y == c] == c).mean()) for c in (0, 1) if (y == c).any()]
    return {"n": int(len(y)), "accuracy": float((guess == y).mean()), "balanced_accuracy": float(np.mean(recalls)),
            "floor_accuracy": float((y == majority).mean()), "floor_balanced_accuracy": 0.5}


def fit(x_train, y_train, x_valid, y_valid) -> tuple[dict, float, dict]:
    """The logistic regression with the best validation balanced accuracy over C_GRID (balanced
    class weights: RAVDESS is 2:1 high)."""
    from sklearn.linear_model import LogisticRegression

    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    best = None
    for c in C_GRID:
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit((x_train - mean) / std, y_train)
        p = clf.predict_proba((x_valid - mean) / std)[:, 1]
        valid = scores(y_valid, p, int(np.bincount(y_train).argmax()))
        if best is None or valid["balanced_accuracy"] > best[2]["balanced_accuracy"] + 1e-9:
            best = ({"mean": mean, "std": std, "coef": clf.coef_[0], "bias": clf.intercept_}, c, valid)
    return best


def probability(w: dict, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - w["mean"]) / w["std"]) @ w["coef"] + w["bias"][0])))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.train_arousal", description=__doc__.splitlines()[0])
    p.add_argument("--cache", default="cache")
    p.add_argument("--out", default=str(CHECKPOINT))
    p.add_argument("--report", default="reports/arousal.md")
    args = p.parse_args(argv)
    from safetensors.numpy import save_file

    root = Path(args.cache)
    tensors, card_modalities, rows = {}, {}, []
    mix = lambda row: whose_baseline(row["id"], 0.5)  # noqa: E731 (as the six models are trained)
    plan = [("audio", "ravdess", "voice"), ("visual", "fer2013", "face")]
    for modality, corpus, name in plan:
        cache = FeatureCache(root / corpus, spec_id=FEATURE_SPEC_ID)
        x_train, y_train = dataset(cache, "train", modality, mix if modality == "audio" else OWN)
        x_valid, y_valid = dataset(cache, "valid", modality, OWN)
        w, c, valid = fit(x_train, y_train, x_valid, y_valid)
        majority = int(np.bincount(y_train).argmax())
        tests = {"own median" if modality == "audio" else "stills": dataset(cache, "test", modality, OWN)}
        if modality == "audio":
            tests["actor's median"] = dataset(cache, "test", modality, SPEAKER)
            if (root / SHUFFLED / "meta.json").is_file():
                tests["words shuffled, own median"] = dataset(FeatureCache(root / SHUFFLED, spec_id=FEATURE_SPEC_ID),
                                                             "test", modality, OWN)
        test = {cond: scores(y, probability(w, x), majority) for cond, (x, y) in tests.items()}
        for k, v in w.items():
            tensors[f"{modality}.{k}"] = np.asarray(v, np.float64).reshape(-1)
        card_modalities[modality] = {"corpus": corpus, "features": "clip statistics (msa_demo/arousal.py)",
                                     "train_items": int(len(y_train)), "C": c, "valid": valid, "test": test}
        for cond, s in test.items():
            rows.append(f"| {name} | {corpus} test, {cond} | {s['n']} | **{s['accuracy']:.3f}** | "
                        f"{s['balanced_accuracy']:.3f} | {s['floor_accuracy']:.3f} | 0.500 |")
    save_file(tensors, args.out)
    card = {"feature_spec_id": FEATURE_SPEC_ID, "labels": {"high": sorted(k for k, v in EMOTION_AROUSAL.items() if v),
                                                          "low": sorted(k for k, v in EMOTION_AROUSAL.items() if not v)},
            "modalities": card_modalities, "commit": git_commit(), "command": "python -m training.train_arousal",
            "not_measured": "EmoDB (German) is not in ../shared and no package carries it: no other-language row"}
    Path(args.out).with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    lines = ["# Arousal (how strongly): the voice and face readers", "",
             "`python -m training.train_arousal` (logistic regression on clip statistics; C chosen on validation). "
             "High = " + ", ".join(card["labels"]["high"]) + "; low = " + ", ".join(card["labels"]["low"]) + ".",
             "Floor: always the training majority class (accuracy) / 0.5 (balanced accuracy).", "",
             "| reader | test set | n | accuracy | balanced accuracy | floor (accuracy) | floor (balanced) |",
             "|---|---|---:|---:|---:|---:|---:|", *rows, "",
             "EmoDB (German, a language the models never heard) is not in ../shared and no package carries it: "
             "the other-language row is not measured.", ""]
    Path(args.report).write_text("\n".join(lines))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
