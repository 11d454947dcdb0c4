"""features -> model -> the explanation JSON that the UI, the `/analyze` endpoint and the CLI share.

One batched forward pass of 8 rows (the same sample with each of the 8 modality subsets switched
on via `present`) gives the score, the baseline (empty subset), the 7 subset scores and the exact
Shapley contributions. The robustness panel calls the same function with modalities switched off
and a missing rate: it re-scores from cached features, nothing is re-extracted.

Out-of-distribution guard: where a calibration file exists for the feature spec
(`checkpoints/ood-<spec id>.safetensors`, msa_demo/models/ood.py), a modality far from its
training features keeps only a weight w < 1: the 8 subset values become the blended game
(explain/blend.py: the modality counts as present with probability w), so the score moves towards
the score without it, and the contributions, computed on that game, still sum to it. The JSON
says so: "ood" {modality: {score, threshold, weight}}, "score_unguarded", and a notice.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import torch

from .corpora.labels import polarity3
from .explain import SUBSETS, routing_axes, shapley_values, subset_mask, subset_name
from .explain.blend import blended_game
from .explain.shapley import restrict
from .features.spec import FEATURE_SPEC_ID, MODALITIES
from .features.types import ModalityFeatures
from .models import MSAModel, apply_missing, collate
from .models.batch import Batch, with_fields
from .models.ood import OODGuard, guard_path

FULL = SUBSETS[-1]
DEFAULT = "default"


@lru_cache(maxsize=1)
def default_guard() -> OODGuard | None:
    """The calibration for the running feature spec: `MSA_OOD_GUARD` (a file, or "off"), else the
    repository's checkpoints/ood-<spec id>.safetensors; None (no guard) when there is none."""
    setting = os.environ.get("MSA_OOD_GUARD", "")
    if setting.lower() == "off":
        return None
    path = Path(setting) if setting else guard_path(Path(__file__).resolve().parents[1] / "checkpoints",
                                                    FEATURE_SPEC_ID)
    return OODGuard.load(path, spec_id=FEATURE_SPEC_ID) if path.is_file() else None


def analyze_features(features: Mapping[str, ModalityFeatures] | object, model: MSAModel, *,
                     transcript: str = "", notices: Iterable[str] = (),
                     present: Sequence[bool] | Sequence[str] | None = None, rate: float = 0.0,
                     seed: int = 0, guard: OODGuard | None | str = DEFAULT) -> dict:
    """The JSON for one input: score, polarity, baseline, contributions (baseline + sum == score),
    unimodal, routing, the 7 subset scores, transcript, notices, ood.

    features: {modality: ModalityFeatures} (a missing key = absent) or a FeatureBundle.
    present / rate / seed: the robustness condition — modalities kept, the share of steps dropped
    (seeded, so the same slider position always drops the same steps).
    guard: the out-of-distribution guard ("default": the spec's calibration file, if any; None: off).
    It judges the input as given, before the robustness condition.
    """
    guard = default_guard() if guard == DEFAULT else guard
    ood = guard.assess(features) if guard is not None else {}
    batch = collate([features])
    if present is not None or rate > 0:
        generator = torch.Generator().manual_seed(int(seed))
        batch = apply_missing(batch, present=present, rate=float(rate), generator=generator)
        batch = with_fields(batch, complete=None)
    available = [bool(a) for a in batch.available()[0].tolist()]
    out = _forward_subsets(batch, model)

    raw, value = _game(out.score.detach().double().cpu().tolist(), available, ood)
    phi = shapley_values(value)
    score, baseline = value[FULL], value[0]
    row = restrict(FULL, available)
    return {
        "model": getattr(model, "model_name", type(model).__name__),
        "score": score,
        "polarity": polarity3(score),
        "baseline": baseline,
        "contributions": dict(zip(MODALITIES, phi)),
        "unimodal": _unimodal(out, row, available, raw),
        "unimodal_source": "heads" if out.unimodal else "single-modality subsets",
        "routing": {name: t[row].detach().float().cpu().tolist() for name, t in out.routing.items()},
        "routing_axes": {name: routing_axes(name, tuple(t[row].shape)) for name, t in out.routing.items()},
        "subsets": {subset_name(s): value[s] for s in SUBSETS[1:]},
        "available": dict(zip(MODALITIES, available)),
        "condition": {"present": _present_names(present), "rate": float(rate), "seed": int(seed)},
        "transcript": transcript or "",
        "notices": list(notices) + OODGuard.notices({m: a for m, a in ood.items() if available[MODALITIES.index(m)]}),
        "ood": ood,
        "score_unguarded": raw[FULL],
    }


def explained_scores(inputs: Sequence[Mapping[str, ModalityFeatures]], model: MSAModel, *,
                     guard: OODGuard | None | str = DEFAULT) -> list[dict]:
    """[{"score", "baseline", "contributions"}] for many inputs in ONE forward pass (8 rows each):
    the numbers `analyze_features` gives, for the views that need only them (word attribution's
    N+1 texts, the windows over time) — one batched pass instead of N small ones."""
    if not inputs:
        return []
    guard = default_guard() if guard == DEFAULT else guard
    batch = collate(list(inputs))
    # a (input, subset) row whose switched-on modalities are the very objects of an earlier row is
    # that row again (word attribution: the voice and face subsets are shared by all N+1 texts)
    key_of = [(s, tuple(id(f.get(m)) if subset_mask(s)[j] else None for j, m in enumerate(MODALITIES)))
              for f in inputs for s in SUBSETS]
    first = {}
    unique = [first.setdefault(key, k) == k for k, key in enumerate(key_of)]
    picked = [k for k, keep in enumerate(unique) if keep]
    rows = batch.select([k // len(SUBSETS) for k in picked])
    masks = torch.tensor([subset_mask(k % len(SUBSETS)) for k in picked], dtype=torch.bool)
    rows = with_fields(rows, present=rows.present & masks, complete=None).to(next(model.parameters()).device)
    with torch.inference_mode():
        computed = dict(zip(picked, model(rows, with_losses=False).score.detach().double().cpu().tolist()))
    scores = [computed[first[key]] for key in key_of]
    results = []
    for i, features in enumerate(inputs):
        available = [bool(a) for a in batch.available()[i].tolist()]
        ood = guard.assess(features) if guard is not None else {}
        _, value = _game(scores[i * len(SUBSETS):(i + 1) * len(SUBSETS)], available, ood)
        results.append({"score": value[FULL], "baseline": value[0],
                        "contributions": dict(zip(MODALITIES, shapley_values(value)))})
    return results


def _game(scores: list[float], available: list[bool], ood: dict) -> tuple[list[float], list[float]]:
    """(raw, value): v(S) = the score of S ∩ available (rows of `scores` in SUBSETS order), and the
    game with each flagged modality blended in by its OOD weight. A modality the input lacks (or that
    is switched off) is a null player anyway: weight 1 keeps its contribution exactly 0."""
    raw = [scores[restrict(s, available)] for s in SUBSETS]
    weights = [ood[m]["weight"] if m in ood and available[j] else 1.0 for j, m in enumerate(MODALITIES)]
    return raw, (blended_game(raw, weights) if min(weights) < 1.0 else raw)


def rescore(features, model: MSAModel, *, present=None, rate: float = 0.0, seed: int = 0,
            transcript: str = "", notices: Iterable[str] = (), guard: OODGuard | None | str = DEFAULT) -> dict:
    """The robustness panel: the same analysis with modalities off and steps dropped at `rate`."""
    return analyze_features(features, model, transcript=transcript, notices=notices,
                            present=present, rate=rate, seed=seed, guard=guard)


def _forward_subsets(batch: Batch, model: MSAModel):
    """One forward pass over 8 copies of the sample, row s with subset s switched on."""
    device = next(model.parameters()).device
    rows = batch.select([0] * len(SUBSETS))
    masks = torch.tensor([subset_mask(s) for s in SUBSETS], dtype=torch.bool)
    rows = with_fields(rows, present=rows.present & masks, complete=None).to(device)
    with torch.inference_mode():
        return model(rows, with_losses=False)


def _unimodal(out, row: int, available: list[bool], value: list[float]) -> dict:
    """Per-modality predictions: the model's unimodal heads where it has them, else its score with
    that modality alone (the one-modality subsets). None for a modality the input lacks."""
    result = {}
    for j, m in enumerate(MODALITIES):
        if not available[j]:
            result[m] = None
        elif m in out.unimodal:
            result[m] = float(out.unimodal[m][row])
        else:
            result[m] = value[1 << j]
    return result


def _present_names(present) -> list[str]:
    if present is None:
        return list(MODALITIES)
    items = list(present)
    if all(isinstance(x, str) for x in items):
        return [m for m in MODALITIES if m in items]
    return [m for m, on in zip(MODALITIES, items) if on]
