"""`python -m training.finetune_text`: fine-tune the text encoder for sentiment (LoRA, rank 8).

Trains low-rank updates of every linear layer of all-MiniLM-L6-v2 (msa_demo/features/text_adapter.py)
plus a throw-away mean-pool regression head, with an L1 loss on the valence labels, on the MOSI and
MELD *training* splits read from the feature caches' index (the texts the caches were made from).
MOSI, the target corpus, is drawn twice per epoch and MELD subsampled to the same size, so the
8x larger MELD does not decide the adapter. The epoch kept is the one with the lowest mean of the
two validation MAEs (validation only). Token ids are computed once, not states.

Writes `checkpoints/text_adapter.safetensors` (only the A/B matrices) and a JSON card with the
recipe, data, seed, validation history and the CPU it ran on. The feature spec names the file's
sha256 (msa_demo/assets.py TEXT_ADAPTER_SHA256): after a new adapter, update that constant and
re-embed the caches' text (`python -m training.reembed_text`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from msa_demo.features.spec import TEXT_MAX_TOKENS
from msa_demo.features.text_adapter import ADAPTER_PATH, ALPHA, RANK, TARGETS, target_names


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.finetune_text", description=__doc__.splitlines()[0])
    p.add_argument("--cache-root", default="cache")
    p.add_argument("--out", default=str(ADAPTER_PATH))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=None, help="first N texts per corpus and split (smoke tests)")
    args = p.parse_args(argv)
    card = finetune(args.cache_root, Path(args.out), epochs=args.epochs, lr=args.lr,
                    batch_size=args.batch_size, seed=args.seed, threads=args.threads, limit=args.limit)
    print(json.dumps(card["best"]))
    return 0


def read_texts(cache_root: str | Path, corpus: str, split: str, limit: int | None = None):
    """(cleaned texts, labels) of one cache split, cleaned exactly as TextFeaturizer cleans them."""
    texts, labels = [], []
    with open(Path(cache_root) / corpus / "index.csv", newline="") as f:
        for row in csv.DictReader(f):
            text = " ".join((row["text"] or "").lower().split())
            if row["split"] == split and text and "~aug" not in row["id"]:
                texts.append(text)
                labels.append(float(row["label"]))
    return (texts[:limit], labels[:limit]) if limit else (texts, labels)


class LoRALinear:
    """Factory for a frozen nn.Linear plus a trainable low-rank update (B starts at 0: no change)."""

    @staticmethod
    def wrap(linear):
        import torch
        from torch import nn

        class _LoRA(nn.Module):
            def __init__(self, base: nn.Linear):
                super().__init__()
                self.base = base
                self.lora_A = nn.Parameter(torch.empty(RANK, base.in_features))
                self.lora_B = nn.Parameter(torch.zeros(base.out_features, RANK))
                nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

            def forward(self, x):
                return self.base(x) + (ALPHA / RANK) * (x @ self.lora_A.T @ self.lora_B.T)

        return _LoRA(linear)


def add_lora(model) -> list[str]:
    for p in model.parameters():
        p.requires_grad_(False)
    names = target_names(model)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear.wrap(getattr(parent, child)))
    return names


def _batches(ids: list[list[int]], labels: list[float], order: np.ndarray, batch_size: int):
    """Batches of similar length (sorted within chunks of 50 batches), so padding costs little."""
    chunk = batch_size * 50
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: len(ids[i]))
        groups = [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
        for g in np.random.permutation(len(groups)):
            yield groups[g]


def _tensors(ids, labels, rows, pad_id):
    import torch

    width = max(len(ids[i]) for i in rows)
    x = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, i in enumerate(rows):
        x[r, :len(ids[i])] = torch.tensor(ids[i])
        mask[r, :len(ids[i])] = 1
    return x, mask, torch.tensor([labels[i] for i in rows], dtype=torch.float32)


def finetune(cache_root, out: Path, epochs: int = 8, lr: float = 5e-4, batch_size: int = 32,
             seed: int = 1111, threads: int = 2, limit: int | None = None) -> dict:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModel, AutoTokenizer

    from msa_demo.assets import TEXT_MODEL_SHA256, resolve_text_model
    from msa_demo.machine import cpu_name

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    started = time.perf_counter()
    folder = resolve_text_model()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder)
    names = add_lora(model)
    head = torch.nn.Linear(model.config.hidden_size, 1)

    def encode(texts):
        return tokenizer(texts, truncation=True, max_length=TEXT_MAX_TOKENS)["input_ids"]

    data = {}
    for corpus in ("mosi", "meld"):
        for split in ("train", "valid"):
            texts, labels = read_texts(cache_root, corpus, split, limit)
            data[corpus, split] = (encode(texts), labels)

    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    mosi_n = len(data["mosi", "train"][1])
    per_epoch = 4 * mosi_n  # MOSI twice, MELD as much
    steps = epochs * math.ceil(per_epoch / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.06 * steps)) * max(0.0, (steps - s) / steps))

    def forward(x, mask):
        states = model(input_ids=x, attention_mask=mask).last_hidden_state
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return head(pooled).squeeze(-1)

    def evaluate(corpus):
        ids, labels = data[corpus, "valid"]
        model.eval()
        preds = []
        with torch.inference_mode():
            for start in range(0, len(ids), 128):
                rows = list(range(start, min(start + 128, len(ids))))
                x, mask, _ = _tensors(ids, labels, rows, tokenizer.pad_token_id)
                preds.append(forward(x, mask).numpy())
        pred, gold = np.concatenate(preds), np.asarray(labels)
        from msa_demo.corpora.labels import polarity3_index
        return {"mae": float(np.abs(pred - gold).mean()),
                "pol3": float((polarity3_index(pred) == polarity3_index(gold)).mean())}

    history, best_state, best = [], None, {"score": float("inf")}
    for epoch in range(epochs):
        model.train()
        mosi_ids, mosi_labels = data["mosi", "train"]
        meld_ids, meld_labels = data["meld", "train"]
        meld_rows = np.random.choice(len(meld_ids), size=min(2 * mosi_n, len(meld_ids)), replace=False)
        ids = mosi_ids + mosi_ids + [meld_ids[i] for i in meld_rows]
        labels = mosi_labels + mosi_labels + [meld_labels[i] for i in meld_rows]
        losses = []
        for rows in _batches(ids, labels, np.random.permutation(len(ids)), batch_size):
            x, mask, y = _tensors(ids, labels, rows, tokenizer.pad_token_id)
            loss = torch.nn.functional.l1_loss(forward(x, mask), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
        valid = {c: evaluate(c) for c in ("mosi", "meld")}
        score = float(np.mean([v["mae"] for v in valid.values()]))
        history.append({"epoch": epoch, "train_l1": float(np.mean(losses)), "valid": valid, "score": score,
                        "seconds": round(time.perf_counter() - started, 1)})
        print(json.dumps(history[-1]), flush=True)
        if score < best["score"]:
            best = history[-1]
            modules = dict(model.named_modules())
            best_state = {f"{n}.{k}": getattr(modules[n], k).detach().clone().contiguous()
                          for n in names for k in ("lora_A", "lora_B")}

    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(best_state, str(out), metadata={"rank": str(RANK), "alpha": str(ALPHA),
                                              "base_sha256": TEXT_MODEL_SHA256})
    from msa_demo.features.text_adapter import adapter_sha256
    card = {
        "what": "LoRA sentiment adapter for sentence-transformers/all-MiniLM-L6-v2 (merged on load)",
        "sha256": adapter_sha256(out), "base_sha256": TEXT_MODEL_SHA256, "rank": RANK, "alpha": ALPHA,
        "targets": list(TARGETS), "layers": len(names),
        "parameters": int(sum(v.numel() for v in best_state.values())),
        "data": {"train": "MOSI train (x2 per epoch) + MELD train (as many, resampled per epoch)",
                 "select": "lowest mean of MOSI and MELD validation MAE", "limit": limit},
        "recipe": {"loss": "L1 on valence", "head": "mean pool + linear (discarded)", "epochs": epochs,
                   "lr": lr, "batch_size": batch_size, "schedule": "6 % warm-up, linear decay",
                   "weight_decay": 0.01, "seed": seed, "threads": threads},
        "history": history, "best": best, "cpu": cpu_name(), "command": "python -m training.finetune_text",
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return card


if __name__ == "__main__":
    sys.exit(main())
