"""`python -m training.voice_diagnosis`: why does the voice read real speakers as it does?

Voice-only scores (the OOD guard off: the model's own reading) of the shipped models for
1. RAVDESS validation clips per emotion, as recorded and with the silence before and after the
   sentence cut off (energy more than 35 dB under the loudest 20 ms frame) — how much the corpus's
   silence padding still moves the voice;
2. the real MOSI clips as they are, with the Whisper part of the features replaced by its training
   mean, with the prosody part replaced by it, 12 dB quieter, 10 dB louder, and with 1 s of
   RAVDESS-like silence (noise at −80 dBFS) before and after — which part of the features carries
   the reading, and whether the recording level or the missing silence matters;
3. how far each voice lies from the training voices under the OOD guard: its distance², the weight
   the guard gives it, and the share of its standardised pooled vector outside the guard's principal
   subspace of the training voices (RAVDESS validation for reference) — whether a real voice is a
   RAVDESS voice seen differently or something the training voices do not span;
4. how much 1.5 s of silence before a real clip moves its pooled Whisper states (relative norm of
   the difference), with the encoder on the speech span (the feature spec) and on the whole audio
   (the spec before msa-v2-8a786388).
Writes `reports/voice_diagnosis.md`.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
MODELS = ("derl", "late_fusion", "misr")


def trim_silence(y: np.ndarray, floor_db: float = 35.0, frame: int = 320) -> np.ndarray:
    rms = np.sqrt(np.array([np.mean(y[i:i + frame] ** 2) for i in range(0, len(y) - frame, frame)]) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -floor_db)
    return y[loud[0] * frame:(loud[-1] + 1) * frame]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.voice_diagnosis", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoints", default=str(ROOT / "checkpoints"))
    p.add_argument("--cache", default=str(ROOT / "cache" / "ravdess"), help="for the RAVDESS validation list")
    p.add_argument("--per-class", type=int, default=6)
    p.add_argument("--out", default=str(ROOT / "reports" / "voice_diagnosis.md"))
    args = p.parse_args(argv)
    os.environ["MSA_OOD_GUARD"] = "off"
    import torch

    from msa_demo.asr import WhisperASR
    from msa_demo.features.audio import prosody, voice_features
    from msa_demo.features.spec import FEATURE_DIMS, WHISPER_DIM
    from msa_demo.features.types import ModalityFeatures
    from msa_demo.media import load_media
    from msa_demo.models import collate, load_checkpoint

    asr = WhisperASR()
    models = {m: load_checkpoint(Path(args.checkpoints) / f"{m}.safetensors")[0] for m in MODELS}
    train_mean = {m: model.encoders["audio"].standardize.mean.numpy() for m, model in models.items()}

    def voice(y):
        return voice_features(prosody(y), asr.encoder_windows(y), len(y))[0]

    def scores(feature, replace: str | None = None) -> list[float]:
        out = []
        for m, model in models.items():
            values = feature.values
            if replace is not None:
                part = np.arange(values.shape[1]) < WHISPER_DIM
                part = part if replace == "whisper" else ~part
                values = np.where(part, train_mean[m], values).astype(np.float32)
            sample = {"audio": ModalityFeatures(values, feature.mask, feature.times),
                      "text": ModalityFeatures.absent(FEATURE_DIMS["text"]),
                      "visual": ModalityFeatures.absent(FEATURE_DIMS["visual"])}
            with torch.inference_mode():
                out.append(float(model(collate([sample])).score[0]))
        return out

    def cell(values) -> str:
        return " / ".join(f"{v:+.2f}" for v in values)

    rows = [r for r in csv.DictReader(open(Path(args.cache) / "index.csv"))
            if r["split"] == "valid" and "~" not in r["id"]]
    by_class: dict[str, list] = {}
    for r in rows:
        by_class.setdefault(r["label_class"], []).append(r)
    lines = ["# The voice on real speakers: a diagnosis", "",
             f"`python -m training.voice_diagnosis`. Voice-only scores, OOD guard off, models {', '.join(MODELS)} "
             "(cells: their scores in that order).", "",
             f"## RAVDESS validation, as recorded and with the silence around the sentence cut "
             f"(first {args.per_class} clips per emotion; mean)", "",
             "| emotion | seconds (cut) | as recorded | silence cut |", "|---|---:|---:|---:|"]
    for emotion in sorted(by_class):
        got, cut, secs = [], [], []
        for r in by_class[emotion][:args.per_class]:
            y = load_media(str(SHARED / r["source"]), audio_only=True).audio  # source: relative to ../shared
            t = trim_silence(y)
            got.append(scores(voice(y)))
            cut.append(scores(voice(t)))
            secs.append((len(y) / 16000, len(t) / 16000))
        s = np.mean(secs, 0)
        lines.append(f"| {emotion} | {s[0]:.1f} ({s[1]:.1f}) | {cell(np.mean(got, 0))} | {cell(np.mean(cut, 0))} |")
    lines += ["", "## Real MOSI clips: which part of the features carries the reading", "",
              "| clip | RMS dBFS | as is | Whisper part := training mean | prosody := training mean | −12 dB | +10 dB "
              "| 1 s silence around |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    pad = (np.random.default_rng(0).standard_normal(16000) * 10 ** (-80 / 20)).astype(np.float32)
    for clip in sorted((SHARED / "media" / "mosi_clips").glob("*.mp4")):
        y = load_media(str(clip), audio_only=True).audio
        f = voice(y)
        level = 20 * np.log10(np.sqrt(np.mean(y ** 2)) + 1e-12)
        lines.append(f"| {clip.stem} | {level:.0f} | {cell(scores(f))} | {cell(scores(f, 'whisper'))} | "
                     f"{cell(scores(f, 'prosody'))} | {cell(scores(voice(y * 0.25)))} | "
                     f"{cell(scores(voice(np.clip(y * 3.16, -1, 1))))} | "
                     f"{cell(scores(voice(np.concatenate([pad, y, pad]))))} |")
    lines += _distances(voice, rows, SHARED, load_media)
    lines += _silence_before(asr, SHARED, load_media)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _distances(voice, rows, shared, load_media) -> list[str]:
    """Section 3: distance², guard weight and off-subspace share of RAVDESS validation and real voices."""
    from msa_demo.features.spec import FEATURE_SPEC_ID
    from msa_demo.models.ood import OODGuard, guard_path, pooled

    guard = OODGuard.load(guard_path(ROOT / "checkpoints", FEATURE_SPEC_ID), FEATURE_SPEC_ID).guards["audio"]

    def measure(y):
        x = pooled(voice(y))
        z = (x - guard.mean) / guard.scale
        proj = z @ guard.components.T
        d = float(guard.score(x)[0])
        return d, guard.weight(d), 1.0 - float((proj ** 2).sum() / (z ** 2).sum())

    ref = np.array([measure(load_media(str(shared / r["source"]), audio_only=True).audio) for r in rows])
    lines = ["", "## How far the voices lie from the training voices (OOD guard)", "",
             f"Off-subspace share: of the standardised pooled voice, the part outside the guard's "
             f"{len(guard.variances)} principal directions of the training voices.", "",
             "| voice | distance² | guard weight | off-subspace share |", "|---|---:|---:|---:|",
             f"| RAVDESS validation, {len(ref)} clips (median) | {np.median(ref[:, 0]):.0f} | "
             f"{np.median(ref[:, 1]):.2f} | {np.median(ref[:, 2]):.2f} |"]
    for clip in sorted((shared / "media" / "mosi_clips").glob("*.mp4")):
        d, w, share = measure(load_media(str(clip), audio_only=True).audio)
        lines.append(f"| {clip.stem} | {d:.0f} | {w:.2f} | {share:.2f} |")
    return lines


def _silence_before(asr, shared, load_media) -> list[str]:
    """Section 4: pooled Whisper states with and without 1.5 s of silence before the speech."""
    model = asr.load()

    def pooled_states(windows, skip_steps=0):
        return np.concatenate([w.states for w in windows])[skip_steps:].mean(0)

    lines = ["", "## 1.5 s of silence before the speech: change of the pooled Whisper states", "",
             "| clip | seconds | speech span encoded (now) | whole audio encoded (before) |", "|---|---:|---:|---:|"]
    for clip in sorted((shared / "media" / "mosi_clips").glob("*.mp4")):
        y = load_media(str(clip), audio_only=True).audio
        z = np.concatenate([np.zeros(24_000, np.float32), y])
        change = []
        for encode, skip in ((model.voice_windows, 0),
                             (lambda a: model.grid_windows(model.feature_extractor(a)), 75)):
            a, b = pooled_states(encode(y)), pooled_states(encode(z), skip)
            change.append(np.linalg.norm(a - b) / np.linalg.norm(a))
        lines.append(f"| {clip.stem} | {len(y) / 16000:.1f} | {change[0]:.0%} | {change[1]:.0%} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
