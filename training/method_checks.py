"""`python -m training.method_checks`: does each method's component do its job? Measured, not assumed.

- MIDG: how each corpus is routed. Per corpus (validation split), the mean router distribution
  over the experts, and the "corpus split" = the mean total-variation distance between a corpus's
  distribution and the average of all: 0 when every corpus uses the experts alike (invariant
  experts), near 1 when each corpus has its own expert (domain-specific ones).
- DERL: the alignment loss's gradient into the encoders relative to the task loss's, at
  initialisation, on training batches degraded as in training (the weight it runs with and the
  old 0.1); and the share of reconstruction targets that are dropped steps.

Writes a markdown section to stdout or `--out`. Checkpoints default to the shipped ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from msa_demo.features.spec import MODALITIES

from .data import DOMAINS, collate_examples, load_examples, make_composites


def midg_routing(checkpoint: Path, cache_root: Path) -> dict:
    from msa_demo.models import load_checkpoint

    from msa_demo.models.checkpoint import read_card

    spec = read_card(checkpoint)["feature_spec_id"]  # an older checkpoint is read on its own caches
    model, card = load_checkpoint(checkpoint, feature_spec_id=spec)
    valid = load_examples(cache_root, list(DOMAINS), "valid", spec_id=spec)
    valid += make_composites(valid, 600, seed=5, split="valid")
    per_corpus = {}
    with torch.inference_mode():
        for corpus in [*DOMAINS, "composite"]:
            rows = [e for e in valid if e.corpus == corpus and e.has_input]
            probs = [model(collate_examples(rows[i:i + 256])).routing["router_probs"]
                     for i in range(0, len(rows), 256)]
            if probs:
                per_corpus[corpus] = torch.cat(probs).mean(0).numpy()
    mean = np.mean(list(per_corpus.values()), 0)
    split = float(np.mean([0.5 * np.abs(p - mean).sum() for p in per_corpus.values()]))
    return {"checkpoint": str(checkpoint), "commit": card.get("git_commit"), "per_corpus": per_corpus,
            "corpus_split": split}


def derl_gradients(cache_root: Path, w_align: float, batches: int = 8, seed: int = 0) -> dict:
    """||d(w_align·align)/d encoders|| / ||d task/d encoders|| at init, and the dropped-step share."""
    from msa_demo.models import apply_missing, create_model, feature_stats, sample_modality_dropout
    from msa_demo.models import sample_training_rates
    from torch.utils.data import DataLoader

    from .data import ExampleDataset, balanced_sampler

    from msa_demo.corpora.cache import read_meta

    torch.manual_seed(seed)
    spec = read_meta(cache_root / "mosi")["feature_spec_id"]  # at initialisation any spec's caches do
    train = load_examples(cache_root, list(DOMAINS), "train", spec_id=spec)
    train += make_composites(train, 2048, seed)
    model = create_model("derl", w_align=w_align).train()
    model.set_feature_stats(feature_stats(DataLoader(ExampleDataset(train), batch_size=256,
                                                     collate_fn=collate_examples)))
    loader = DataLoader(ExampleDataset(train), batch_size=64, collate_fn=collate_examples,
                        sampler=balanced_sampler(train, 64 * batches, seed, ("ravdess", "fer2013")))
    encoder_params = [p for p in model.encoders.parameters() if p.requires_grad]
    ratios, dropped, observed = [], 0, 0
    for batch in loader:
        present = sample_modality_dropout(batch.present, 0.2)
        degraded = apply_missing(batch, present=present, rate=sample_training_rates(len(batch)) * 0.9)
        out = model(degraded, with_losses=True)
        task = model.task_loss(out.score, batch.label).mean()
        g_task = torch.autograd.grad(task, encoder_params, retain_graph=True, allow_unused=True)
        g_align = torch.autograd.grad(out.losses["align"], encoder_params, allow_unused=True)  # weighted
        norm = lambda grads: float(torch.sqrt(sum((g ** 2).sum() for g in grads if g is not None)))  # noqa: E731
        if norm(g_task) > 0:
            ratios.append(norm(g_align) / norm(g_task))
        for m in MODALITIES:
            full, mine = batch.mask(m), degraded.mask(m)
            dropped += int((full & ~mine & degraded.present[:, MODALITIES.index(m), None]).sum())
            observed += int((full & degraded.present[:, MODALITIES.index(m), None]).sum())
    return {"w_align": w_align, "align_over_task": float(np.mean(ratios)),
            "dropped_share_of_steps": dropped / max(observed, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.method_checks", description=__doc__.splitlines()[0])
    p.add_argument("--cache-root", default="cache")
    p.add_argument("--midg", nargs="+", default=["checkpoints/midg.safetensors"])
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    root = Path(args.cache_root)
    lines = ["## MIDG: routing by corpus (validation splits)", "",
             "| checkpoint | " + " | ".join([*DOMAINS, "composite"]) + " | corpus split |",
             "|---|" + "---|" * (len(DOMAINS) + 2)]
    for path in args.midg:
        r = midg_routing(Path(path), root)
        cells = [" ".join(f"{x:.2f}" for x in r["per_corpus"].get(c, [])) or "—" for c in [*DOMAINS, "composite"]]
        lines.append(f"| {path} ({(r['commit'] or '?')[:7]}) | " + " | ".join(cells) + f" | {r['corpus_split']:.2f} |")
    lines += ["", "Cells: the mean router probability of each expert. Corpus split: mean total-variation "
              "distance of a corpus's routing from the average (0 = experts shared by all corpora).", "",
              "## DERL: alignment vs task gradient into the encoders, at initialisation", "",
              "| w_align | ‖∇ align‖ / ‖∇ task‖ | dropped steps / observed steps |", "|---:|---:|---:|"]
    from msa_demo.models.derl import DERL
    for w in sorted({0.1, 0.02, DERL.Config.w_align}, reverse=True):
        r = derl_gradients(root, w)
        lines.append(f"| {w:g} | {r['align_over_task']:.2f} | {r['dropped_share_of_steps']:.2f} |")
    lines += ["", "rec_feature is scored on the dropped steps only (msa_demo/models/derl.py)."]
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
