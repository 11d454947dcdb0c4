"""`python -m training.guard_reliability`: what the voice and the face are worth at each distance from
their training features, measured; it becomes the OOD guard's weight curve (msa_demo/models/ood.py).

The guard's old rule, weight sqrt(q99 / distance²), was a guess: real voices got 0.40-0.55 and still
pulled every clip down. Here the guess is replaced by a measurement:
1. VALIDATION items of the corpus that carries the modality (RAVDESS for the voice, FER2013 for the
   face), clean and degraded by CONDITIONS (the app's perturbation kinds at several severities, and
   speed), re-extracted by the live feature code. Never training or test items.
2. For every input: the guard's distance², and the polarity-3 each shipped model gives with that
   modality alone (the OOD guard off).
3. Per model, balanced accuracy as a decreasing function of distance² (isotonic regression, each
   item weighted by 1 / its class's count), turned into skill: (accuracy − 1/3) / (clean accuracy
   − 1/3), clipped to [0, 1]; the curve stored is the mean over the shipped models (made monotone,
   and divided by its value at the first knot, so that a typical clean input keeps weight 1), at
   knots from the clean inputs' median distance² to the 99th percentile of all. Past the last
   knot the weight keeps decaying as sqrt(last knot / d²).

The voice's last condition is the shift that matters most on real people, other words: RAVDESS
actors say two sentences, so any real speaker's Whisper states lie off theirs
(reports/voice_diagnosis.md). "other words" plays the same validation clip with its speech cut into
0.15-0.35 s pieces and shuffled (training/voice_augment.py `scramble_content`): the actor's pitch,
loudness and voice quality stay, the word sequence is one the training never heard. It also loses
the sentence's contour, so it measures what a voice is worth once the words are new, not only the
words' cost. What no condition makes (other people, other rooms) may cost more than a degradation at
the same distance. The shifted features are kept (`cache/guard-shifts-<spec>.npz`; a condition
added to CONDITIONS is extracted alone and appended), so re-fitting after a retrain costs seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
CORPUS = {"audio": "ravdess", "visual": "fer2013"}
# (name, kind, severity); "speed" is training's resampling at a rate outside its ±10 %
CONDITIONS = {
    "audio": [("clean", None, None), ("pink noise 10 dB", "noise_pink", 10),
              ("pink noise 0 dB", "noise_pink", 0), ("white noise 5 dB", "noise_white", 5), ("brown noise 0 dB", "noise_brown", 0),
              ("reverb 0.5 s", "reverb", 0.5), ("reverb 1 s", "reverb", 1.0), ("reverb 2 s", "reverb", 2.0),
              ("low-pass 1 kHz", "band_limit", 1000), ("low-pass 500 Hz", "band_limit", 500),
              ("clipped at 5 %", "clipping", 0.05), ("speed 0.8x", "speed", 0.8),
              ("speed 1.25x", "speed", 1.25), ("other words (speech shuffled)", "scramble", None)],
    # FER2013 stills are 48 px: a sigma of 1 px there is ~5 px on a webcam's face
    "visual": [("clean", None, None), ("blur 0.5 px", "blur", 0.5), ("blur 1 px", "blur", 1.0),
               ("blur 1.5 px", "blur", 1.5), ("upper quarter covered", "occlude_upper", 0.25),
               ("upper half covered", "occlude_upper", 0.5), ("lower quarter covered", "occlude_lower", 0.25),
               ("lower half covered", "occlude_lower", 0.5), ("light 50 %", "low_light", 0.5),
               ("light 25 %", "low_light", 0.25)],
}
KNOTS = 12


def shifted_features(modality: str, pipeline, limit: int | None, cache: Path, seed: int = 0,
                     only: list[int] | None = None) -> dict:
    """{"values", "mask", "offsets", "label", "condition", "item"}: every validation item of the
    modality's corpus under every condition (or those indexed by `only`), through the live pipeline."""
    from msa_demo.corpora.base import read_zip_media
    from msa_demo.media import load_image, load_media
    from msa_demo.perturb.kinds import get_kind
    from msa_demo.perturb.video import face_boxes

    from .voice_augment import scramble_content

    rows = [r for r in csv.DictReader(open(cache / CORPUS[modality] / "index.csv", encoding="utf-8"))
            if r["split"] == "valid"]
    if limit and len(rows) > limit:
        rows = [rows[i] for i in sorted(np.random.default_rng(seed).choice(len(rows), limit, replace=False))]
    values, masks, labels, conditions, items = [], [], [], [], []
    for i, row in enumerate(rows):
        source = str(SHARED / row["source"])
        if modality == "audio":
            clean = load_media(source, audio_only=True).audio
        else:
            clean = load_image(read_zip_media(source))
            boxes = face_boxes(pipeline.face_featurizer(), clean.frames, clean.frame_times)
        for c, (name, kind, severity) in enumerate(CONDITIONS[modality]):
            if only is not None and c not in only:
                continue
            if modality == "audio":
                if kind == "speed":
                    y = speed_to(clean, severity)
                elif kind == "scramble":
                    y = scramble_content(clean, seed + i)
                else:
                    y = clean if kind is None else get_kind(kind).apply(clean, severity, seed + i)
                feature = pipeline.extract(None, transcript="-", audio_samples=y).audio
            else:
                frames = (clean.frames if kind is None
                          else get_kind(kind).apply(clean.frames, severity, seed + i, boxes))
                feature = pipeline.extract(None, clip=replace(clean, frames=frames)).visual
            if not feature.present:
                continue
            values.append(feature.values)
            masks.append(feature.mask)
            labels.append(float(row["label"]))
            conditions.append(c)
            items.append(i)
        if i % 20 == 0:
            print(f"{modality}: {i + 1}/{len(rows)} items", flush=True)
    offsets = np.cumsum([0] + [len(v) for v in values])
    return {"values": np.concatenate(values).astype(np.float32), "mask": np.concatenate(masks),
            "offsets": offsets, "label": np.array(labels, np.float32), "condition": np.array(conditions),
            "item": np.array(items)}


def appended(shifts: dict, more: dict) -> dict:
    """Two `shifted_features` results as one (the second's inputs after the first's)."""
    offsets = np.r_[shifts["offsets"], shifts["offsets"][-1] + more["offsets"][1:]]
    joined = {k: np.concatenate([shifts[k], more[k]])
              for k in ("values", "mask", "label", "condition", "item")}
    return {**joined, "offsets": offsets}


def speed_to(audio: np.ndarray, rate: float) -> np.ndarray:
    """Played `rate` times as fast (resampled, as training's speed perturbation does)."""
    from scipy import signal

    return signal.resample_poly(np.asarray(audio, np.float64), 20, int(round(20 * rate))).astype(np.float32)


def polarity(values: np.ndarray) -> np.ndarray:
    """Polarity-3 (MMSA's Acc-3 bins: |v| <= 0.5 is neutral) as 0, 1, 2."""
    return np.where(values < -0.5, 0, np.where(values > 0.5, 2, 1))


def unimodal_scores(models: dict, modality: str, shifts: dict, batch: int = 256) -> dict[str, np.ndarray]:
    """Each model's score with `modality` alone, for every shifted input."""
    import torch

    from msa_demo.features.spec import FEATURE_DIMS, MODALITIES
    from msa_demo.features.types import ModalityFeatures
    from msa_demo.models import collate

    offsets = shifts["offsets"]
    samples = []
    for k in range(len(offsets) - 1):
        a, b = int(offsets[k]), int(offsets[k + 1])
        times = np.zeros((b - a, 2), np.float32)
        sample = {m: ModalityFeatures.absent(FEATURE_DIMS[m]) for m in MODALITIES}
        sample[modality] = ModalityFeatures(shifts["values"][a:b], shifts["mask"][a:b], times)
        samples.append(sample)
    out = {}
    for name, model in models.items():
        scores = []
        with torch.inference_mode():
            for s in range(0, len(samples), batch):
                scores.append(model(collate(samples[s: s + batch])).score.numpy())
        out[name] = np.concatenate(scores)
    return out


def skill_curve(distance: np.ndarray, correct: np.ndarray, truth: np.ndarray, clean: np.ndarray,
                knots: np.ndarray) -> np.ndarray:
    """Skill at each knot: isotonic (decreasing) balanced accuracy over distance, as (acc − 1/3) /
    (the clean inputs' balanced accuracy − 1/3), clipped to [0, 1]."""
    from sklearn.isotonic import IsotonicRegression

    weight = np.zeros(len(truth))
    for c in np.unique(truth):
        weight[truth == c] = 1.0 / (truth == c).sum()
    fit = IsotonicRegression(increasing=False, out_of_bounds="clip")
    fit.fit(distance, correct, sample_weight=weight)
    clean_acc = np.mean([correct[clean & (truth == c)].mean() for c in np.unique(truth[clean])])
    span = max(clean_acc - 1 / 3, 1e-6)
    return np.clip((fit.predict(knots) - 1 / 3) / span, 0.0, 1.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.guard_reliability",
                                description=__doc__.splitlines()[0])
    p.add_argument("--checkpoints", default=str(ROOT / "checkpoints"))
    p.add_argument("--cache", default=str(ROOT / "cache"), help="feature caches (their validation lists; the "
                   "degraded features are kept here too)")
    p.add_argument("--modalities", default="audio,visual")
    p.add_argument("--limit", type=int, default=300, help="validation items per corpus (seeded draw)")
    p.add_argument("--features-only", action="store_true", help="make the degraded features and stop")
    p.add_argument("--out", default=str(ROOT / "reports" / "guard_reliability.md"))
    args = p.parse_args(argv)
    os.environ["MSA_OOD_GUARD"] = "off"
    from msa_demo.features.spec import FEATURE_SPEC_ID
    from msa_demo.models.ood import OODGuard, guard_path, pooled
    from msa_demo.features.types import ModalityFeatures

    modalities = args.modalities.split(",")
    store = Path(args.cache) / f"guard-shifts-{FEATURE_SPEC_ID}.npz"
    shifts = {}
    if store.exists():
        with np.load(store) as fh:  # every modality's, so a run on some of them keeps the others'
            for m in CORPUS:
                shifts[m] = {k.split(".", 1)[1]: fh[k] for k in fh.files if k.startswith(m + ".")}
    done = {m: set(shifts[m]["condition"].tolist()) if shifts.get(m) else set() for m in modalities}
    todo = {m: sorted(set(range(len(CONDITIONS[m]))) - done[m]) for m in modalities}
    if any(todo.values()):
        from msa_demo.pipeline import FeaturePipeline

        pipeline = FeaturePipeline()
        for m, conditions in todo.items():
            if conditions:
                more = shifted_features(m, pipeline, args.limit, Path(args.cache), only=list(conditions))
                shifts[m] = appended(shifts[m], more) if shifts.get(m) else more
        np.savez_compressed(store, **{f"{m}.{k}": v for m, s in shifts.items() if s for k, v in s.items()})
    if args.features_only:
        return 0

    from msa_demo.models import load_checkpoint
    from msa_demo.models.registry import list_models

    models = {n: load_checkpoint(Path(args.checkpoints) / f"{n}.safetensors")[0] for n in list_models()}
    path = guard_path(args.checkpoints, FEATURE_SPEC_ID)
    guard = OODGuard.load(path, FEATURE_SPEC_ID)
    lines = ["# What the voice and the face are worth away from their training features", "",
             "`python -m training.guard_reliability`: validation items, clean and degraded, re-extracted; "
             "distance² under the OOD guard; polarity-3 balanced accuracy of each shipped model with that "
             "modality alone (guard off). The guard's weight is the mean skill curve below "
             "(training/guard_reliability.py says how it is made).", ""]
    for m in modalities:
        s, g = shifts[m], guard.guards[m]
        vectors = [pooled(ModalityFeatures(s["values"][a:b], s["mask"][a:b], np.zeros((b - a, 2))))
                   for a, b in zip(s["offsets"][:-1], s["offsets"][1:])]
        distance = g.score(np.array(vectors))
        truth = polarity(s["label"])
        scores = unimodal_scores(models, m, s)
        clean = s["condition"] == 0
        start, top = float(np.median(distance[clean])), float(np.percentile(distance, 99))
        knots = np.unique(np.r_[start, np.geomspace(start * 1.05, max(top, g.q99 * 1.1), KNOTS - 1)])
        curves = {n: skill_curve(distance, (polarity(v) == truth).astype(float), truth, clean, knots)
                  for n, v in scores.items()}
        mean_curve = np.minimum.accumulate(np.mean(list(curves.values()), axis=0))
        mean_curve = mean_curve / max(mean_curve[0], 1e-6)  # 1 at the clean median: the weight is relative
        g.info["reliability"] = {"distance": [round(float(k), 2) for k in knots],
                                 "weight": [round(float(w), 4) for w in mean_curve],
                                 "measured_on": f"{CORPUS[m]} validation, {len(CONDITIONS[m])} conditions"
                                                f" (training/guard_reliability.py), mean of {len(models)} models"}
        lines += _report(m, g, distance, truth, scores, s["condition"], knots, curves, mean_curve)
    guard.save(path)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} and {args.out}")
    return 0


def _report(m, g, distance, truth, scores, condition, knots, curves, mean_curve) -> list[str]:
    names = list(scores)
    lines = [f"## {'Voice' if m == 'audio' else 'Face'} ({CORPUS[m]} validation; q99 = {g.q99:.0f})", "",
             "| condition | inputs | median distance² | weight there | " + " | ".join(names) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(names)]
    for c, (name, _, _) in enumerate(CONDITIONS[m]):
        sel = condition == c
        if not sel.any():
            continue
        cells = []
        for n in names:
            right = polarity(scores[n][sel]) == truth[sel]
            cells.append(f"{np.mean([right[truth[sel] == k].mean() for k in np.unique(truth[sel])]):.2f}")
        d = float(np.median(distance[sel]))
        lines.append(f"| {name} | {int(sel.sum())} | {d:.0f} | {g.weight(d):.2f} | "
                     + " | ".join(cells) + " |")
    lines += ["", "Weight curve (distance² → weight, mean of the models' skill; per model in brackets):",
              ""]
    for i, k in enumerate(knots):
        per = ", ".join(f"{curves[n][i]:.2f}" for n in names)
        lines.append(f"- {k:.0f} → {mean_curve[i]:.2f} ({per})")
    return lines + [""]


if __name__ == "__main__":
    sys.exit(main())
