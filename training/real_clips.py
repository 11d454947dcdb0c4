"""`python -m training.real_clips [--checkpoints DIR] [--out reports/real_clips.md]`: every model on
real people — the shared MOSI clips as recorded and degraded the way a webcam recording is.

The corpus test splits say how a model does on its corpora; this says whether it holds on a person
talking to a camera, which is what the app is for. For each clip (Whisper's own transcript, as the
Live tab gets it) and each model: the score, the polarity against the label, the voice-only score
(the audio-only subset: does the voice read every speaker the same way?) and each modality's Shapley
contribution. Then the same clips with the audio degraded (noise at 10 dB SNR, a small room's
reverb, a phone's band): the voice should move less than the words carry. The 4 clips are CMU-MOSI
*training* items, so their text is in-sample for models trained on MOSI: read the voice and face
columns, and treat the polarity count as a floor, not as a test result.
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
CLIPS = SHARED / "media" / "mosi_clips"
DEGRADATIONS = ("noise 10 dB", "reverb", "phone band")


def labelled_clips(folder: Path = CLIPS) -> list[tuple[Path, float]]:
    with open(folder / "labels.csv", newline="") as fh:
        return [(folder / row["file"], float(row["label"])) for row in csv.DictReader(fh)]


def degrade(audio: np.ndarray, kind: str, seed: int = 0) -> np.ndarray:
    """One of DEGRADATIONS, seeded (the same every run)."""
    from scipy import signal

    from .voice_augment import SAMPLE_RATE, add_noise, reverb

    rng = np.random.default_rng(seed)
    y = audio.astype(np.float64)
    if kind == "noise 10 dB":
        y = add_noise(y, rng, 10.0)
    elif kind == "reverb":
        y = reverb(y, rng)
    elif kind == "phone band":
        y = signal.sosfilt(signal.butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos"), y)
    else:
        raise ValueError(kind)
    return np.clip(y, -1, 1).astype(np.float32)


def measure(pipeline, zoo, models: list[str]) -> list[dict]:
    """One row per (clip, condition, model)."""
    from msa_demo.analysis import analyze_features
    from msa_demo.corpora.labels import polarity3
    from msa_demo.media import load_media
    from msa_demo.session import extract_input

    rows = []
    for path, label in labelled_clips():
        clean = extract_input(pipeline, str(path))
        conditions = {"clean": clean.features}
        audio = load_media(path).audio
        for kind in DEGRADATIONS:  # the same words and face; only the voice is degraded
            voice = pipeline.extract(None, transcript=clean.transcript or None,
                                     audio_samples=degrade(audio, kind)).audio
            conditions[kind] = {**clean.features, "audio": voice}
        for condition, features in conditions.items():
            for name in models:
                result = analyze_features(features, zoo.get(name))
                rows.append({"clip": path.stem, "label": label, "condition": condition, "model": name,
                             "transcript": clean.transcript, "score": result["score"],
                             "right": polarity3(result["score"]) == polarity3(label),
                             "voice_only": result["subsets"]["audio"],
                             "contributions": result["contributions"]})
    return rows


def markdown(rows: list[dict], command: str) -> str:
    models = list(dict.fromkeys(r["model"] for r in rows))
    clips = list(dict.fromkeys(r["clip"] for r in rows))
    labels = {r["clip"]: r["label"] for r in rows}
    lines = [f"# Real clips: {len(clips)} CMU-MOSI clips, Whisper's transcripts", "",
             f"`{command}`. Training items of MOSI (their text is in-sample for models trained on MOSI).", "",
             "## Clean", "",
             "| model | " + " | ".join(f"{c} ({labels[c]:+.1f})" for c in clips) + " | polarity right | voice-only scores |",
             "|---|" + "---:|" * (len(clips) + 2)]
    for m in models:
        mine = [r for r in rows if r["model"] == m and r["condition"] == "clean"]
        cells = [f"{r['score']:+.2f} (t {r['contributions']['text']:+.2f}, a {r['contributions']['audio']:+.2f}, "
                 f"v {r['contributions']['visual']:+.2f})" for r in mine]
        voice = ", ".join(f"{r['voice_only']:+.2f}" for r in mine)
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {sum(r['right'] for r in mine)}/{len(mine)} | {voice} |")
    lines += ["", "Cells: score (Shapley contributions of text, audio, visual).", "",
              "## The voice degraded (words and face unchanged)", "",
              "Voice-only score and, in brackets, the full score, per condition.", "",
              "| model | clip | " + " | ".join(["clean", *DEGRADATIONS]) + " |", "|---|---|" + "---:|" * (1 + len(DEGRADATIONS))]
    for m in models:
        for c in clips:
            cells = [next(f"{r['voice_only']:+.2f} ({r['score']:+.2f})" for r in rows
                          if r["model"] == m and r["clip"] == c and r["condition"] == k)
                     for k in ["clean", *DEGRADATIONS]]
            lines.append(f"| {m} | {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.real_clips", description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", default=str(ROOT / "checkpoints"))
    parser.add_argument("--out", default=str(ROOT / "reports" / "real_clips.md"))
    parser.add_argument("--models", default=None, help="comma-separated (default: every registered model)")
    args = parser.parse_args(argv)
    from msa_demo.models import list_models
    from msa_demo.pipeline import FeaturePipeline
    from msa_demo.zoo import ModelZoo

    from .extract import use_shared_face_model

    if not CLIPS.is_dir():
        print(f"{CLIPS} is absent", file=sys.stderr)
        return 2
    use_shared_face_model(SHARED)
    zoo = ModelZoo(args.checkpoints)
    models = args.models.split(",") if args.models else list_models()
    unknown = sorted(set(models) - set(list_models()))
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}")
    untrained = [m for m in models if not zoo.trained(m)]
    if untrained:
        print(f"untrained (no usable checkpoint): {', '.join(untrained)}", file=sys.stderr)
    rows = measure(FeaturePipeline(), zoo, models)
    command = "python -m training.real_clips" + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(argv or sys.argv[1:]))
    text = markdown(rows, command)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
