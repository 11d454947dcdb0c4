"""`python -m training.train --model NAME [--config FILE] [--seed N]`: train one model on the caches.

Runs on PyTorch Lightning, so the same command uses the CPU, one GPU, or several GPUs / nodes
(DDP; `--devices`, `--num-nodes`). Early stopping and the checkpoint choice use validation only.
The best weights are written as safetensors + JSON card to `--out/<model>/seed<N>.safetensors`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .config import SEEDS, TrainConfig


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from msa_demo.models import list_models

    if args.model not in list_models():  # before minutes of loading caches
        raise SystemExit(f"unknown model {args.model!r} (known: {', '.join(list_models())})")
    cfg = TrainConfig.load(args.config, max_epochs=args.max_epochs, limit_per_corpus=args.limit,
                           corpora=args.corpora.split(",") if args.corpora else None)
    result = train(args.model, cfg, seed=args.seed, cache_root=args.cache_root, out=args.out,
                   accelerator=args.accelerator, devices=args.devices, num_nodes=args.num_nodes,
                   progress=not args.quiet)
    print(json.dumps({k: result[k] for k in ("checkpoint", "best_val_loss", "epochs", "seconds")}))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--config", default=None, help="JSON file of TrainConfig fields")
    p.add_argument("--seed", type=int, default=SEEDS[0])
    p.add_argument("--cache-root", default="cache", help="folder holding <corpus>/ feature caches")
    p.add_argument("--out", default="runs", help="where <model>/seed<N>.safetensors is written")
    p.add_argument("--corpora", default=None, help="comma-separated, default: all four")
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="first N items per corpus and split (smoke tests)")
    p.add_argument("--accelerator", default="auto")
    p.add_argument("--devices", default="auto")
    p.add_argument("--num-nodes", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def train(model_name: str, cfg: TrainConfig, seed: int = SEEDS[0], cache_root: str | Path = "cache",
          out: str | Path = "runs", accelerator: str = "auto", devices="auto", num_nodes: int = 1,
          progress: bool = True) -> dict:
    import lightning as L
    import torch
    from torch.utils.data import DataLoader

    from msa_demo.corpora import READERS
    from msa_demo.models import create_model, feature_stats, save_checkpoint

    from .composite_eval import VALID_SEED
    from .data import ExampleDataset, balanced_sampler, collate_examples, load_examples, make_composites
    from .module import EarlyStoppingFrom, MSALightning

    started = time.perf_counter()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    L.seed_everything(seed, workers=True, verbose=False)
    train_set = load_examples(cache_root, cfg.corpora, "train", cfg.limit_per_corpus,
                              speaker_share=cfg.speaker_baseline_share)
    valid_set = load_examples(cache_root, cfg.corpora, "valid", cfg.limit_per_corpus)
    if not train_set or not valid_set:
        raise SystemExit(f"no training/validation items under {cache_root} for {cfg.corpora}: "
                         "run python -m training.extract first")
    train_set += make_composites(train_set, cfg.composites, seed)
    valid_set += make_composites(valid_set, cfg.valid_composites, VALID_SEED, split="valid")

    model = create_model(model_name, **cfg.model)
    stats_loader = DataLoader(ExampleDataset(train_set), batch_size=256, collate_fn=collate_examples)
    model.set_feature_stats(feature_stats(stats_loader))  # training data only

    train_loader = DataLoader(
        ExampleDataset(train_set), batch_size=cfg.batch_size, collate_fn=collate_examples,
        sampler=balanced_sampler(train_set, cfg.samples_per_epoch, seed, tuple(cfg.class_balanced),
                                 cfg.corpus_weights),
        num_workers=cfg.num_workers)
    valid_loader = DataLoader(ExampleDataset(valid_set), batch_size=256, collate_fn=collate_examples,
                              num_workers=cfg.num_workers)

    module = MSALightning(model, cfg)
    trainer = L.Trainer(
        max_epochs=cfg.max_epochs, accelerator=accelerator, devices=devices, num_nodes=num_nodes,
        callbacks=[EarlyStoppingFrom(cfg.min_epochs, "val/loss", patience=cfg.patience, mode="min")],
        enable_checkpointing=False, logger=False, enable_progress_bar=progress,
        enable_model_summary=False, deterministic="warn", num_sanity_val_steps=0,
    )
    trainer.fit(module, train_loader, valid_loader)
    if module.best_state is not None:
        model.load_state_dict(module.best_state)
    corpora = [{"name": c, "licence": READERS[c].licence} for c in cfg.corpora if c in READERS]
    if cfg.composites:
        corpora.append({"name": "synthetic composites of the above (training only)", "licence": "as above"})
    best = min(module.history, key=lambda h: h["val/loss"]) if module.history else {}
    path = Path(out) / model_name / f"seed{seed}"
    checkpoint = None
    if trainer.is_global_zero:
        checkpoint = save_checkpoint(model.cpu(), path, corpora=corpora, seed=seed,
                                     metrics={"validation": best}, extra={"training": cfg.to_dict()})
    return {"checkpoint": str(checkpoint), "best_val_loss": best.get("val/loss"),
            "epochs": len(module.history), "seconds": round(time.perf_counter() - started, 1),
            "history": module.history}


if __name__ == "__main__":
    sys.exit(main())
