"""The sentiment adapter of the text encoder: LoRA deltas fine-tuned on MOSI + MELD, merged on load.

all-MiniLM-L6-v2 was trained for sentence similarity, not sentiment: "great" and "terrible" sit close
when the topic is the same. `training/finetune_text.py` trains low-rank updates (LoRA, rank 8) of
every linear layer of its 6 transformer blocks on the MOSI and MELD training splits; this file
holds the one definition of those layers and merges the deltas into the weights (W += s·B·A), so
inference runs the plain encoder at its usual speed and the shipped file stays small (1.3 MB).

The adapter is part of the feature spec (its sha256): every text feature, live or cached, is made
with the same merged encoder, or not at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ADAPTER_PATH = Path(__file__).resolve().parents[2] / "checkpoints" / "text_adapter.safetensors"
RANK = 8
ALPHA = 16.0
# the nn.Linear modules of each BertLayer that get a low-rank update
TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")


def target_names(model) -> list[str]:
    """Qualified names of the adapted nn.Linear modules of a (MiniLM) BertModel."""
    return [name for name, _ in model.named_modules()
            if ".layer." in name and any(name.endswith("." + t) for t in TARGETS)]


def adapter_sha256(path: Path = ADAPTER_PATH) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def merge_adapter(model, path: Path = ADAPTER_PATH, expected_sha256: str | None = None) -> None:
    """Adds each layer's LoRA delta to its weight, in place. Refuses a file whose hash differs."""
    import torch
    from safetensors.torch import load_file

    if expected_sha256 is not None and adapter_sha256(path) != expected_sha256:
        raise ValueError(f"text adapter {path} is not the one the feature spec names "
                         f"(sha256 {adapter_sha256(path)[:12]}…, expected {expected_sha256[:12]}…)")
    tensors = load_file(str(path))
    modules = dict(model.named_modules())
    names = target_names(model)
    missing = [n for n in names if f"{n}.lora_A" not in tensors]
    if missing:
        raise ValueError(f"text adapter {path} lacks {len(missing)} layers, e.g. {missing[0]}")
    with torch.no_grad():
        for name in names:
            a, b = tensors[f"{name}.lora_A"], tensors[f"{name}.lora_B"]
            weight = modules[name].weight
            weight += (ALPHA / RANK) * (b.to(weight.dtype) @ a.to(weight.dtype))
