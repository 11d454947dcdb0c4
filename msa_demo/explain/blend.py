"""A modality with weight w in [0, 1] counts as present with probability w: the blended game.

v_w(S) = E[v(S ∩ K)], where K keeps each modality j independently with probability w_j. With one
down-weighted modality m this is w·v(S) + (1 − w)·v(S without m) for every S that holds m, so the
final score is the model's score with and without m, blended by m's weight. It is a game like any
other: v_w(empty) = v(empty) is the same baseline, Shapley values of v_w satisfy efficiency
(baseline + contributions == the blended score), a modality of weight 0 gets exactly 0, and weights
of 1 give v back unchanged. Used by the out-of-distribution guard (msa_demo/models/ood.py).
"""

from __future__ import annotations

from typing import Sequence

from .shapley import N, SUBSETS


def blended_game(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """values[s] = v(subset bitmask s) for the 8 subsets, weights[j] for MODALITIES[j] -> v_w."""
    if len(values) != 2 ** N or len(weights) != N:
        raise ValueError(f"need {2 ** N} values and {N} weights")
    w = [min(max(float(x), 0.0), 1.0) for x in weights]
    out = []
    for s in SUBSETS:
        total = 0.0
        for t in SUBSETS:
            if t & ~s:
                continue  # T must be a subset of S
            p = 1.0
            for j in range(N):
                if s >> j & 1:
                    p *= w[j] if t >> j & 1 else 1.0 - w[j]
            total += p * float(values[t])
        out.append(total)
    return out
