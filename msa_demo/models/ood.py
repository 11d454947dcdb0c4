"""Out-of-distribution guard per modality: how far an input's pooled features lie from the training
features of that modality, and the weight the modality keeps because of it.

Why: the voice branch learned 16 studio actors and reads every real voice as negative; a model
cannot know that its input is unlike anything it was trained on. The guard measures it and the
analysis gives such a modality a smaller role (msa_demo/analysis.py blends the score with and
without it; Shapley is computed on the blended game, so baseline + contributions == score still).

Score: the Mahalanobis distance² of the modality's mean-pooled features (mean over observed steps:
the same for a one-frame FER still and a clip) under a low-rank Gaussian fitted on the TRAINING
items — probabilistic PCA: per-dimension standardisation, the top-k principal directions with their
variances, and one shared variance for the rest of the space (a shrunk covariance that a few
hundred RAVDESS clips can estimate in 516 dimensions). Calibration: the 95th and 99th percentiles of
the score on the VALIDATION items. Weight: what the modality was measured to be worth at that
distance — the shipped models' unimodal skill (balanced polarity-3 accuracy above chance, relative to
the clean inputs') on validation inputs, clean and degraded (`python -m training.guard_reliability`:
noise, reverb, band-limiting, speed, blur, occlusion, ...; a monotone curve from the clean median
on). Without a measured curve: 1 up to the 99th percentile, then sqrt(q99 / score). The notice
("voice unlike the training voices") is given beyond the 99th percentile.

Stored once per feature spec as `checkpoints/ood-<spec id>.safetensors` (tensors + JSON metadata,
no pickle), made by `python -m training.calibrate_ood --cache cache`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..features.spec import MODALITIES
from ..features.types import ModalityFeatures

MAX_RANK = 32
SCALE_FLOOR = 0.05  # a dimension's scale is at least this share of the median scale
PERCENTILES = (95.0, 99.0)
FORMAT = "msa-ood-guard/1"


def pooled(feature: ModalityFeatures | None) -> np.ndarray | None:
    """Mean of the observed steps, or None when the modality is off or has no observed step."""
    if feature is None or not feature.present:
        return None
    mask = np.asarray(feature.mask, bool)
    if not mask.any():
        return None
    return np.asarray(feature.values, np.float64)[mask].mean(0)


@dataclass
class ModalityGuard:
    """A low-rank Gaussian over pooled features of one modality and its calibrated threshold."""

    mean: np.ndarray  # [D]
    scale: np.ndarray  # [D]
    components: np.ndarray  # [k, D] orthonormal rows, in standardised units
    variances: np.ndarray  # [k]
    residual: float  # variance of every direction outside the components
    q95: float = float("nan")
    q99: float = float("nan")
    info: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, x: np.ndarray, max_rank: int = MAX_RANK) -> "ModalityGuard":
        x = np.asarray(x, np.float64)
        n, d = x.shape
        if n < 3:
            raise ValueError(f"need at least 3 items to fit a distribution, got {n}")
        mean = x.mean(0)
        std = x.std(0)
        positive = std[std > 0]
        floor = SCALE_FLOOR * (np.median(positive) if positive.size else 1.0)
        scale = np.maximum(std, floor)
        z = (x - mean) / scale
        _, s, vt = np.linalg.svd(z / np.sqrt(n - 1), full_matrices=False)
        eig = s ** 2
        k = int(min(max_rank, d // 2, n - 1))  # half the space at most: the rest is the shrunk residual
        total = float((z ** 2).sum() / (n - 1))
        rest = max(total - float(eig[:k].sum()), 0.0)
        residual = rest / (d - k) if d > k else 0.0
        residual = max(residual, 1e-3 * total / d)  # shrinkage: never a zero-variance direction
        return cls(mean, scale, vt[:k].copy(), np.maximum(eig[:k], residual), float(residual),
                   info={"n_fit": n, "dim": d, "rank": k})

    def score(self, x: np.ndarray) -> np.ndarray:
        """Mahalanobis distance² of pooled features x [N, D] (or [D]) under the fitted Gaussian."""
        x = np.atleast_2d(np.asarray(x, np.float64))
        z = (x - self.mean) / self.scale
        proj = z @ self.components.T
        inside = (proj ** 2 / self.variances).sum(1)
        outside = np.maximum((z ** 2).sum(1) - (proj ** 2).sum(1), 0.0) / self.residual
        return inside + outside

    def calibrate(self, x: np.ndarray) -> "ModalityGuard":
        scores = self.score(x)
        self.q95, self.q99 = (float(np.percentile(scores, p)) for p in PERCENTILES)
        self.info["n_calibration"] = int(len(scores))
        return self

    def weight(self, score: float) -> float:
        """The measured reliability curve where there is one (info["reliability"]: distance² knots
        from the clean validation median on, and weights; training/guard_reliability.py): 1 up to its
        first knot, then the curve, then decaying as sqrt(last knot / score). Without a curve: 1 up
        to the 99th validation percentile, then sqrt(q99 / score)."""
        curve = self.info.get("reliability")
        if not curve:
            return 1.0 if score <= self.q99 else float(np.sqrt(self.q99 / score))
        knots, weights = curve["distance"], curve["weight"]
        if score <= knots[0]:
            return 1.0
        if score <= knots[-1]:
            return float(min(1.0, np.interp(score, knots, weights)))
        return float(min(1.0, weights[-1] * np.sqrt(knots[-1] / score)))


NOTICE = {"text": "words unlike the training texts", "audio": "voice unlike the training voices",
          "visual": "face unlike the training faces"}


class OODGuard:
    """One ModalityGuard per modality (those it was calibrated for), for one feature spec."""

    def __init__(self, guards: Mapping[str, ModalityGuard], spec_id: str):
        self.guards = dict(guards)
        self.spec_id = spec_id

    def assess(self, features) -> dict[str, dict]:
        """{modality: {"score", "threshold", "weight"}} for each guarded modality the input has.

        features: {modality: ModalityFeatures} or a FeatureBundle (as `collate` takes).
        """
        out = {}
        for m, guard in self.guards.items():
            x = pooled(_feature(features, m))
            if x is None:
                continue
            score = float(guard.score(x)[0])
            out[m] = {"score": score, "threshold": guard.q99, "weight": guard.weight(score)}
        return out

    @staticmethod
    def notices(assessment: Mapping[str, dict]) -> list[str]:
        return [f"{NOTICE[m]}: its weight is reduced to {a['weight']:.2f} "
                f"(distance² {a['score']:.0f}; 99 % of validation inputs are below {a['threshold']:.0f})"
                for m, a in assessment.items() if a["weight"] < 1.0 and a["score"] > a["threshold"]]

    def save(self, path: str | Path) -> Path:
        from safetensors.numpy import save_file

        path = Path(path)
        tensors, meta = {}, {}
        for m, g in self.guards.items():
            for name in ("mean", "scale", "components", "variances"):
                tensors[f"{m}.{name}"] = np.ascontiguousarray(getattr(g, name), np.float32)
            meta[m] = {"residual": g.residual, "q95": g.q95, "q99": g.q99, **g.info}
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(path), metadata={"format": FORMAT, "spec_id": self.spec_id,
                                                 "modalities": json.dumps(meta)})
        return path

    @classmethod
    def load(cls, path: str | Path, spec_id: str | None = None) -> "OODGuard":
        from safetensors import safe_open

        with safe_open(str(path), "np") as fh:
            header = fh.metadata() or {}
            if header.get("format") != FORMAT:
                raise ValueError(f"{path} is not an OOD calibration file ({FORMAT})")
            if spec_id is not None and header.get("spec_id") != spec_id:
                raise ValueError(f"{path} was calibrated for spec {header.get('spec_id')}, not {spec_id}")
            meta = json.loads(header["modalities"])
            guards = {}
            for m, info in meta.items():
                arrays = {name: fh.get_tensor(f"{m}.{name}").astype(np.float64)
                          for name in ("mean", "scale", "components", "variances")}
                extra = {k: v for k, v in info.items() if k not in ("residual", "q95", "q99")}
                guards[m] = ModalityGuard(**arrays, residual=float(info["residual"]), q95=float(info["q95"]),
                                          q99=float(info["q99"]), info=extra)
        return cls(guards, header["spec_id"])


def guard_path(root: str | Path, spec_id: str) -> Path:
    return Path(root) / f"ood-{spec_id}.safetensors"


def fit_guard(train: Mapping[str, Iterable[np.ndarray]], valid: Mapping[str, Iterable[np.ndarray]],
              spec_id: str, max_rank: int = MAX_RANK, min_items: int = 20) -> OODGuard:
    """Fit each modality on its training vectors and calibrate it on its validation vectors (on the
    training vectors when validation has fewer than `min_items`, said in the file)."""
    guards = {}
    for m in MODALITIES:
        x_train = np.array(list(train.get(m, [])))
        if len(x_train) < min_items:
            continue
        x_valid = np.array(list(valid.get(m, [])))
        guard = ModalityGuard.fit(x_train, max_rank)
        on_valid = len(x_valid) >= min_items
        guard.calibrate(x_valid if on_valid else x_train)
        guard.info["calibrated_on"] = "validation" if on_valid else "training (too few validation items)"
        guards[m] = guard
    return OODGuard(guards, spec_id)


def _feature(features, m: str) -> ModalityFeatures | None:
    if isinstance(features, Mapping):
        return features.get(m)
    return getattr(features, m, None)
