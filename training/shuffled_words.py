"""`python -m training.shuffled_words [--extract]`: does the voice read emotion or the two sentences?

RAVDESS actors say two sentences, so a voice model can learn the words instead of how they are
said (spec v2's did: at chance once the words were shuffled). Here every RAVDESS *test* recording is
played with its speech cut into 0.15-0.35 s pieces in a seeded random order (training/voice_augment.py
`scramble_content`; no other change), extracted through the live pipeline into
`cache/ravdess-shuffled` (`--extract`), and every checkpoint's voice alone (the audio-only subset)
is scored on it and on the clean test split: balanced polarity-3 (the mean of the three classes'
recalls, so the 4:1 negative:positive mix is no prior). Mean ± std over the seeds under --runs ->
reports/shuffled_words.json; `python -m training.report` puts the table into reports/metrics.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from msa_demo.corpora import open_corpus
from msa_demo.corpora.labels import polarity3_index
from msa_demo.error_analysis.evaluation import predict
from msa_demo.models import load_checkpoint

from .data import collate_examples, load_examples
from .extract import DEFAULT_SHARED, extract_corpus, use_shared_face_model

SHUFFLED = "ravdess-shuffled"
OUT = Path("reports/shuffled_words.json")


class ShuffledTestReader:
    """RAVDESS's test recordings, each as its shuffled-speech variant (ids `<id>~shuffled`)."""

    def __init__(self, shared: Path):
        self._reader = open_corpus("ravdess", shared)

    def __getattr__(self, name):  # name, licence, root, modalities, spec_id, … of the real reader
        return getattr(self._reader, name)

    def items(self):
        for item in self._reader.items():
            if item.split == "test":
                yield replace(item, id=f"{item.id}~shuffled", scramble=True)


def balanced_polarity3(pred: np.ndarray, label: np.ndarray) -> float:
    truth, guess = polarity3_index(label), polarity3_index(pred)
    return float(np.mean([(guess[truth == c] == c).mean() for c in np.unique(truth)]))


def voice_only(model, cache_root: Path, corpus: str) -> float:
    examples = load_examples(cache_root, [corpus], "test")
    batches = [collate_examples(examples[i:i + 256]) for i in range(0, len(examples), 256)]
    pred = predict(model, batches, present=["audio"])
    return balanced_polarity3(pred, np.array([e.label for e in examples]))


def evaluate(checkpoints: list[Path], cache_root: Path) -> dict:
    per_model: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in checkpoints:
        model, card = load_checkpoint(path)
        for condition, corpus in (("clean", "ravdess"), ("words shuffled", SHUFFLED)):
            per_model[card["model"]][condition].append(voice_only(model, cache_root, corpus))
        print(f"{path}: {dict((k, v[-1]) for k, v in per_model[card['model']].items())}", file=sys.stderr)
    return {m: {c: {"mean": float(np.mean(v)), "std": float(np.std(v)), "seeds": len(v)} for c, v in conds.items()}
            for m, conds in sorted(per_model.items())}


def markdown(result: dict) -> list[str]:
    """The metrics.md section (training/report.py)."""
    if not result:
        return []
    lines = ["## RAVDESS test — the voice alone, words shuffled (non-lexical check)", "",
             "Balanced polarity-3 of the audio-only subset (chance 0.333; target with words shuffled ≥ 0.60), "
             "mean ± std over seeds; `python -m training.shuffled_words`.", "",
             "| model | clean | words shuffled |", "|---|---|---|"]
    for model, conds in result.items():
        cells = [f"{conds[c]['mean']:.3f} ± {conds[c]['std']:.3f}" for c in ("clean", "words shuffled")]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.shuffled_words", description=__doc__.splitlines()[0])
    p.add_argument("--extract", action="store_true", help=f"build cache/{SHUFFLED} first (resumable)")
    p.add_argument("--shared", default=str(DEFAULT_SHARED))
    p.add_argument("--cache-root", default="cache")
    p.add_argument("--runs", default="runs")
    p.add_argument("--checkpoints", nargs="+", default=None)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    root = Path(args.cache_root)
    if args.extract:
        use_shared_face_model(args.shared)
        extract_corpus(ShuffledTestReader(Path(args.shared)), root / SHUFFLED, workers=args.workers)
    checkpoints = ([Path(c) for c in args.checkpoints] if args.checkpoints
                   else sorted(Path(args.runs).glob("*/seed*.safetensors")))
    if not checkpoints:
        print("no checkpoints to score" + ("" if args.extract else f" under {args.runs}"), file=sys.stderr)
        return 0 if args.extract else 2
    torch.set_num_threads(1)
    result = evaluate(checkpoints, root)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(markdown(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
