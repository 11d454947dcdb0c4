"""Checkpoints: weights in safetensors (loading executes no pickle) plus a JSON card.

`save_checkpoint(model, "checkpoints/midg-mosi.safetensors", ...)` writes
- `midg-mosi.safetensors`: the state dict (standardisation statistics included), with the card
  embedded in the file's metadata under "card" — the file alone is enough to load;
- `midg-mosi.json`: the same card, for people and for listing checkpoints without opening weights.

The card: format, model name, config, feature-spec id (and the spec itself), training corpora with
their licences, seed, metrics, git commit, parameter count, torch version, creation time.
A checkpoint made with another feature spec is refused (`FeatureSpecMismatch`): its weights would
silently produce nonsense on our features.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..errors import MediaError
from ..features.spec import FEATURE_SPEC, FEATURE_SPEC_ID
from .base import MSAModel, count_parameters
from .registry import create_model, list_models

CHECKPOINT_FORMAT = "msa-demo-checkpoint/1"


class CheckpointError(MediaError):
    """The checkpoint cannot be used (missing, unreadable, unknown model or format)."""


class FeatureSpecMismatch(CheckpointError):
    """The checkpoint was trained on features of another spec than the running extractor's."""


def git_commit() -> str | None:
    """HEAD of the repository this code lives in, "+dirty" if tracked files changed; None outside git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


def save_checkpoint(model: MSAModel, path: str | Path, *, corpora: Sequence[dict | str] = (),
                    seed: int | None = None, metrics: dict | None = None, notes: str = "",
                    feature_spec_id: str = FEATURE_SPEC_ID, extra: dict | None = None) -> Path:
    """Write `<path>.safetensors` and `<path>.json`; returns the safetensors path.

    corpora: [{"name": "CMU-MOSI", "licence": "..."}] (strings are taken as names, licence unknown).
    """
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    card: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "model": model.model_name,
        "config": model.config_dict(),
        "feature_spec_id": feature_spec_id,
        "feature_spec": FEATURE_SPEC if feature_spec_id == FEATURE_SPEC_ID else None,
        "standardisation_fitted": model.stats_fitted,
        "corpora": [c if isinstance(c, dict) else {"name": c, "licence": None} for c in corpora],
        "seed": seed,
        "metrics": metrics or {},
        "notes": notes,
        "git_commit": git_commit(),
        "parameters": count_parameters(model),
        "torch": torch.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(extra or {}),
    }
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return _write(state, path, card)


def copy_with_card(source: str | Path, target: str | Path, card: dict) -> Path:
    """The weights of `source` written to `target` with a new card (shipping adds test metrics to
    a trained run's card); returns the safetensors path."""
    target = Path(target).with_suffix(".safetensors")
    target.parent.mkdir(parents=True, exist_ok=True)
    return _write(load_file(str(source), device="cpu"), target, card)


def _write(state: dict, path: Path, card: dict) -> Path:
    text = json.dumps(card, indent=2, sort_keys=True, default=_jsonable)
    save_file(state, str(path), metadata={"card": text})
    path.with_suffix(".json").write_text(text + "\n")
    return path


def read_card(path: str | Path) -> dict:
    """The card embedded in a checkpoint (reads the header only, no weights)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path.name} is not a readable safetensors checkpoint ({exc})") from None
    try:
        card = json.loads(metadata["card"])
    except (KeyError, json.JSONDecodeError):
        raise CheckpointError(
            f"{path.name} carries no msa-demo card; it was not written by save_checkpoint") from None
    if card.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path.name} has format {card.get('format')!r}; this version reads {CHECKPOINT_FORMAT}")
    return card


def check_feature_spec(card: dict, feature_spec_id: str = FEATURE_SPEC_ID, name: str = "checkpoint") -> None:
    found = card.get("feature_spec_id")
    if found != feature_spec_id:
        raise FeatureSpecMismatch(
            f"{name} was trained on features of spec {found!r}, but the running feature extractor "
            f"produces spec {feature_spec_id!r}. Its weights would give meaningless scores: retrain it "
            f"on features of the current spec, or run the extractor version it was made with."
        )


def load_checkpoint(path: str | Path, *, feature_spec_id: str = FEATURE_SPEC_ID,
                    device: str | torch.device = "cpu") -> tuple[MSAModel, dict]:
    """(model in eval mode, card). Refuses another feature spec with FeatureSpecMismatch."""
    path = Path(path)
    card = read_card(path)
    check_feature_spec(card, feature_spec_id, path.name)
    if card.get("model") not in list_models():
        raise CheckpointError(f"{path.name} holds model {card.get('model')!r}, unknown here "
                              f"(known: {', '.join(list_models())})")
    try:
        model = create_model(card["model"], **card.get("config", {}))
        model.load_state_dict(load_file(str(path), device="cpu"), strict=True)
    except (TypeError, RuntimeError, SafetensorError) as exc:
        raise CheckpointError(
            f"{path.name} does not match model {card['model']!r} in this version: {exc}") from None
    return model.to(device).eval(), card


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint card")
