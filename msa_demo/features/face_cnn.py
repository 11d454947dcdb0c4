"""A small CNN that reads facial expression from a 48x48 aligned grey crop (`face_crop.py`).

Why: the 52 blendshapes describe muscle movements MediaPipe was trained to see, and on FER2013 they
cap below the valence target (README: 67.5 % linear, 72.4 % MLP). A CNN trained on FER2013's own
pixels sees what the blendshapes miss (texture, wrinkles, the eyes' expression). It is meant to sit
beside the blendshapes in the next feature spec: one 64-d embedding per frame with a face, plus the
heads it was trained with (7 emotions, valence-3, an ordinal valence score) for display and probes.

Small on purpose (about 0.3 M parameters, ~20 M multiply-adds per crop): it runs on every frame at
10 fps on a CPU next to MediaPipe and Whisper. Every crop is standardised to zero mean and unit
variance first, so global brightness and contrast (a dark room, an auto-exposing webcam) do not
reach the network.

Weights load from safetensors (no pickle), and the file's sha256 must match its JSON card
(`checkpoints/face_cnn.json`), so features are the same everywhere or not computed at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .face_crop import CROP_SIZE

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "face_cnn.safetensors"
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013's order
CLASS_VALENCE = 1.5  # labels.CLASS_VALENCE: where negative/positive sit on the -3..3 scale


class FaceCNNError(RuntimeError):
    """The checkpoint is missing, altered, or of another architecture."""


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class FaceCNN(nn.Module):
    """48x48 grey -> 64-d embedding -> emotion-7 logits, valence-3 logits, ordinal valence score.

    The crop is first folded into 24x24x4 (pixel unshuffle: lossless, and on a CPU 3-4x cheaper to
    train than convolving at 48x48 — measured 0.38 vs 2.6 s a batch of 128 on the 2-core machine);
    then stages at 24, 12 and 6 px (widths 32/64/128), global average pooling, a linear embedding.
    The ordinal head is a cumulative-link (proportional-odds) model: one score s and two ordered
    cuts, P(valence <= k) = sigmoid(cut_k - s) for negative < neutral < positive."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), embed_dim: int = 64,
                 dropout: float = 0.2):
        super().__init__()
        w = widths
        self.features = nn.Sequential(
            nn.PixelUnshuffle(2), _conv(4, w[0]),
            _conv(w[0], w[1], 2), _conv(w[1], w[1]),
            _conv(w[1], w[2], 2), _conv(w[2], w[2]),
        )
        self.dropout = nn.Dropout(dropout)
        self.embed = nn.Sequential(nn.Linear(w[-1], embed_dim), nn.BatchNorm1d(embed_dim), nn.ReLU())
        self.emotion = nn.Linear(embed_dim, len(EMOTIONS))
        self.valence3 = nn.Linear(embed_dim, 3)
        self.ordinal = nn.Linear(embed_dim, 1)
        self.cut_first = nn.Parameter(torch.tensor(-0.5))
        self.cut_gap = nn.Parameter(torch.tensor(0.0))  # softplus(gap) > 0 keeps the cuts ordered

    @staticmethod
    def standardise(crops: torch.Tensor) -> torch.Tensor:
        """uint8 or float [B, 48, 48] (0..255) -> float [B, 1, 48, 48], zero mean, unit std each."""
        x = crops.float().reshape(len(crops), 1, CROP_SIZE, CROP_SIZE)
        mean = x.mean((2, 3), keepdim=True)
        std = x.std((2, 3), keepdim=True).clamp_min(4.0)  # a flat crop is not amplified into noise
        return (x - mean) / std

    def cuts(self) -> torch.Tensor:
        return torch.stack([self.cut_first, self.cut_first + nn.functional.softplus(self.cut_gap)])

    def forward(self, crops: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.features(self.standardise(crops)).mean((2, 3))
        embedding = self.embed(self.dropout(pooled))
        return {"embedding": embedding, "emotion": self.emotion(embedding),
                "valence3": self.valence3(embedding), "ordinal": self.ordinal(embedding)[:, 0]}


def ordinal_probs(score: torch.Tensor, cuts: torch.Tensor) -> torch.Tensor:
    """[B, 3] class probabilities (negative, neutral, positive) of the cumulative-link head."""
    below = torch.sigmoid(cuts[None, :] - score[:, None])  # P(y <= 0), P(y <= 1)
    return torch.stack([below[:, 0], below[:, 1] - below[:, 0], 1 - below[:, 1]], 1)


@dataclass
class FaceExpression:
    """Per-crop outputs: embedding [N, 64]; emotion [N, 7] and valence3 [N, 3] probabilities (from
    the head the card names: the 3-class or the ordinal one); valence [N] on the -1.5..+1.5 part of
    the MOSI scale (1.5 * (P(positive) - P(negative)))."""

    embedding: np.ndarray
    emotion: np.ndarray
    valence3: np.ndarray
    valence: np.ndarray


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FaceExpressionModel:
    """The shipped CNN in eval mode, hash-checked, ready for crops from `face_crop.crop_face`."""

    def __init__(self, path: str | Path | None = None, threads: int | None = None):
        from safetensors.torch import load_file

        path = Path(path or CHECKPOINT)
        card_path = path.with_suffix(".json")
        if not path.is_file() or not card_path.is_file():
            raise FaceCNNError(f"face CNN checkpoint not found: {path} and its card {card_path.name}")
        self.card = json.loads(card_path.read_text())
        digest = sha256_of(path)
        if digest != self.card.get("sha256"):
            raise FaceCNNError(f"{path.name}: sha256 {digest[:12]}… does not match its card "
                               f"({str(self.card.get('sha256'))[:12]}…): the file was altered or replaced")
        config = self.card["config"]
        self.net = FaceCNN(tuple(config["widths"]), config["embed_dim"], config["dropout"])
        try:
            self.net.load_state_dict(load_file(str(path)))
        except RuntimeError as exc:
            raise FaceCNNError(f"{path.name} does not fit the FaceCNN in this code ({exc})") from None
        self.net.eval()
        self.valence_head = self.card.get("valence_head", "valence3")
        self.threads = threads

    @property
    def embed_dim(self) -> int:
        return int(self.card["config"]["embed_dim"])

    @torch.no_grad()
    def __call__(self, crops: np.ndarray, batch: int = 256) -> FaceExpression:
        """Outputs for uint8 crops [N, 48, 48] (N may be 0)."""
        crops = np.asarray(crops, np.uint8).reshape(-1, CROP_SIZE, CROP_SIZE)
        parts = []
        for start in range(0, len(crops), batch):
            out = self.net(torch.from_numpy(crops[start:start + batch]))
            if self.valence_head == "ordinal":
                val3 = ordinal_probs(out["ordinal"], self.net.cuts())
            else:
                val3 = out["valence3"].softmax(1)
            parts.append((out["embedding"], out["emotion"].softmax(1), val3))
        if not parts:
            empty = np.zeros((0,), np.float32)
            return FaceExpression(np.zeros((0, self.embed_dim), np.float32), np.zeros((0, 7), np.float32),
                                  np.zeros((0, 3), np.float32), empty)
        embedding, emotion, val3 = (torch.cat(p).numpy() for p in zip(*parts))
        valence = CLASS_VALENCE * (val3[:, 2] - val3[:, 0])
        return FaceExpression(embedding, emotion, val3, valence.astype(np.float32))
