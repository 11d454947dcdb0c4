"""`python -m training.evaluate`: every trained checkpoint on every corpus's TEST split.

Conditions: clean; each of the 7 modality subsets (the others switched off); missing rates
0.0 … 0.9 (LNLN protocol, same rate on all modalities, masks seeded with the run's seed, so a
rate means the same thing for every model). Writes one JSON line per (checkpoint, corpus,
condition, metric) to reports/eval.jsonl; `python -m training.report` aggregates over seeds.

`composite` (in --corpora by default) is not a corpus: the declared-synthetic composite test set,
built from the test splits only (training/composite_eval.py), the one place fusion is measured —
label metrics under every condition, and on clean inputs whether the prediction follows the text
where it should. Skipped, with a message, when the caches cannot give a text, a voice and a face.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import torch

from msa_demo.error_analysis.evaluation import corpus_metrics, predict
from msa_demo.features.spec import MODALITIES
from msa_demo.models import load_checkpoint

from .composite_eval import TEST_SEED, TEST_SIZE, composite_metrics, composite_set
from .composites import COMPOSITE
from .data import collate_examples

SUBSETS = [combo for k in (1, 2, 3) for combo in combinations(MODALITIES, k)]
MISSING_RATES = [round(0.1 * i, 1) for i in range(10)]


def subset_name(subset) -> str:
    return "+".join(subset)


def test_batches(cache_root: Path, corpus: str, limit: int | None = None,
                 batch_size: int = 256) -> tuple[list, np.ndarray]:
    """A corpus's test split as batches of similar length (far less padding; metrics ignore order)."""
    from .data import load_examples

    examples = load_examples(cache_root, [corpus], "test", limit)
    examples.sort(key=lambda e: tuple(len(f.values) for f in e.features.values()))
    label = np.array([e.label for e in examples])
    return [collate_examples(examples[i: i + batch_size]) for i in range(0, len(examples), batch_size)], label


def composite_batches(cache_root: Path, n: int = TEST_SIZE,
                      batch_size: int = 256) -> tuple[list, np.ndarray, np.ndarray, list[str]]:
    """The composite test set as batches, its labels, its parts' polarities [N, 3] and the corpora
    its parts come from (a model trained without one of them meets the set as an unseen corpus)."""
    examples = composite_set(cache_root, "test", n, TEST_SEED)
    if not examples:
        raise ValueError("the composite test set needs text (mosi/meld), ravdess and fer2013 test caches")
    examples.sort(key=lambda e: tuple(len(f.values) for f in e.features.values()))
    label = np.array([e.label for e in examples])
    shown = np.array([e.shown for e in examples])
    sources = sorted({c for e in examples for c in e.sources})
    batches = [collate_examples(examples[i: i + batch_size]) for i in range(0, len(examples), batch_size)]
    return batches, label, shown, sources


def _metrics(corpus: str, pred: np.ndarray, data: tuple, condition: str) -> dict[str, float]:
    if corpus != COMPOSITE:
        return corpus_metrics(corpus, pred, data[1])
    found = composite_metrics(pred, data[1], data[2])
    # by-pattern rates on clean inputs only: under a subset or a drop the parts are not all seen
    return found if condition == "clean" else {k: v for k, v in found.items()
                                                if ":" not in k and k != "follow_text"}


def evaluate_checkpoint(path: Path, data: dict[str, tuple]) -> list[dict]:
    """Every condition on each corpus of `data` (corpus -> (batches, labels[, shown]), see
    test_batches and composite_batches)."""
    model, card = load_checkpoint(path)
    seed = card.get("seed") or 0
    records = []
    for corpus, entry in data.items():
        batches, label = entry[0], entry[1]
        conditions = {"clean": predict(model, batches)}
        for subset in SUBSETS:
            conditions[f"subset:{subset_name(subset)}"] = predict(model, batches, present=list(subset))
        for rate in MISSING_RATES:
            conditions[f"missing:{rate}"] = predict(model, batches, rate=rate, seed=seed)
        for condition, pred in conditions.items():
            for metric, value in _metrics(corpus, pred, entry, condition).items():
                records.append({"model": card["model"], "seed": seed, "corpus": corpus, "split": "test",
                                "condition": condition, "metric": metric, "value": float(value),
                                "trained_on": [c["name"] for c in card.get("corpora", [])],
                                "checkpoint": str(path), "n": len(label),
                                **({"sources": entry[3]} if corpus == COMPOSITE else {})})
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs", help="folder of <model>/seed<N>.safetensors")
    p.add_argument("--cache-root", default="cache")
    p.add_argument("--corpora", default="mosi,meld,ravdess,fer2013,composite",
                   help="comma-separated; 'composite' = the synthetic composite test set")
    p.add_argument("--composite-size", type=int, default=TEST_SIZE)
    p.add_argument("--out", default="reports/eval.jsonl")
    p.add_argument("--limit", type=int, default=None, help="first N test items per corpus (smoke tests)")
    p.add_argument("--checkpoints", nargs="+", default=None, help="these files instead of all under --runs")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (small tensors: 1 is fastest)")
    args = p.parse_args(argv)
    checkpoints = ([Path(c) for c in args.checkpoints] if args.checkpoints
                   else sorted(Path(args.runs).glob("**/*.safetensors")))
    if not checkpoints:
        print(f"error: no checkpoints under {args.runs}: run python -m training.train first", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    data = {}
    for corpus in args.corpora.split(","):
        try:
            data[corpus] = (composite_batches(Path(args.cache_root), args.composite_size) if corpus == COMPOSITE
                            else test_batches(Path(args.cache_root), corpus, args.limit))
        except Exception as exc:  # a cache that is absent: say so, evaluate the rest
            print(f"skip {corpus}: {exc}", file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w") as fh:
        for path in checkpoints:
            for record in evaluate_checkpoint(path, data):
                fh.write(json.dumps(record) + "\n")
            print(f"evaluated {path}", file=sys.stderr)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
