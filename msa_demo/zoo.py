"""The six models, each loaded once per process and shared by every request, tab and endpoint.

A model whose checkpoint is missing (or unusable) still loads — randomly initialised, with fixed
seed so every process shows the same numbers — and carries a notice that says so. The app must
work on a fresh clone and on Spaces before any checkpoint is shipped; it must never crash on an
empty `checkpoints/`.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import torch

from .models import CheckpointError, MSAModel, create_model, list_models, load_checkpoint, read_card

log = logging.getLogger(__name__)

RANDOM_SEED = 0  # untrained fallback: the same random weights in every process
FALLBACK_DEFAULT = "midg"  # the default model when no checkpoint says otherwise


class ModelZoo:
    """Lazily loads `checkpoints/<name>.safetensors` (+ card) for each registered model, in eval mode,
    on CUDA when available. Thread-safe: concurrent first requests load a model once."""

    def __init__(self, root: str | Path = "checkpoints", device: str | torch.device | None = None):
        self.root = Path(root)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self._lock = threading.Lock()
        self._models: dict[str, MSAModel] = {}
        self._cards: dict[str, dict | None] = {}
        self._notices: dict[str, str | None] = {}

    def names(self) -> list[str]:
        return list_models()

    def default_name(self) -> str:
        """The model every tab, the API and the CLI start on: the shipped checkpoint with the lowest
        validation loss (a choice made on validation data only, like the checkpoints themselves)."""
        scored = []
        for name in self.names():
            path = self.checkpoint_path(name)
            if path is None:
                continue
            try:
                loss = read_card(path).get("metrics", {}).get("validation", {}).get("val/loss")
            except CheckpointError:
                continue
            if isinstance(loss, (int, float)):
                scored.append((loss, name))
        return min(scored)[1] if scored else FALLBACK_DEFAULT

    def checkpoint_path(self, name: str) -> Path | None:
        """`<root>/<name>.safetensors`, else the first `<root>/<name>-*.safetensors`; None if neither."""
        exact = self.root / f"{name}.safetensors"
        if exact.is_file():
            return exact
        others = sorted(self.root.glob(f"{name}-*.safetensors"))
        return others[0] if others else None

    def get(self, name: str) -> MSAModel:
        if name not in self.names():
            raise KeyError(f"unknown model {name!r}; known: {', '.join(self.names())}")
        with self._lock:
            if name not in self._models:
                self._load(name)
            return self._models[name]

    def card(self, name: str) -> dict | None:
        """The checkpoint's card, or None when the model is untrained."""
        self.get(name)
        return self._cards[name]

    def notice(self, name: str) -> str | None:
        """Why this model cannot be trusted (untrained, unusable checkpoint), or None."""
        self.get(name)
        return self._notices[name]

    def trained(self, name: str) -> bool:
        return self.card(name) is not None

    def _load(self, name: str) -> None:
        path = self.checkpoint_path(name)
        if path is not None:
            try:
                model, card = load_checkpoint(path, device=self.device)
                self._models[name], self._cards[name], self._notices[name] = model, card, None
                return
            except CheckpointError as exc:
                log.warning("checkpoint %s unusable: %s", path, exc)
                reason = f"checkpoint {path} unusable ({exc})"
        else:
            reason = f"no checkpoint at {self.root / (name + '.safetensors')}"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            model = create_model(name)
        self._models[name] = model.to(self.device).eval()
        self._cards[name] = None
        self._notices[name] = f"{name} is untrained (random weights): {reason}"
