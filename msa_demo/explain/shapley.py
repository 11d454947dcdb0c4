"""Exact Shapley values for three players (text, audio, visual) from the 8 subset values.

With three modalities the 8 coalition values are one batched forward pass, so there is no need to
sample permutations: phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! (v(S+i) - v(S)).
Efficiency (v(N) = v(empty) + sum phi) then holds by construction; v(empty) is the baseline: what
the model says with every modality switched off.
"""

from __future__ import annotations

from math import factorial
from typing import Sequence

from ..features.spec import MODALITIES

N = len(MODALITIES)
# subset as a bitmask: bit j set = MODALITIES[j] is in. Index 0 is the empty set, 7 all three.
SUBSETS: tuple[int, ...] = tuple(range(2 ** N))


def subset_mask(subset: int) -> list[bool]:
    return [bool(subset >> j & 1) for j in range(N)]


def subset_name(subset: int) -> str:
    """"text+audio" etc.; "none" for the empty set."""
    return "+".join(m for j, m in enumerate(MODALITIES) if subset >> j & 1) or "none"


def restrict(subset: int, available: Sequence[bool]) -> int:
    """The part of `subset` the input actually has: switching on a modality the input lacks changes
    nothing, so its Shapley value is exactly 0 (not merely close to it)."""
    return subset & sum(1 << j for j, a in enumerate(available) if a)


def shapley_values(values: Sequence[float]) -> list[float]:
    """values[s] = v(subset s) for the 8 bitmasks -> [phi_text, phi_audio, phi_visual] (float64)."""
    if len(values) != 2 ** N:
        raise ValueError(f"need {2 ** N} subset values, got {len(values)}")
    v = [float(x) for x in values]
    phi = []
    for i in range(N):
        total = 0.0
        for s in SUBSETS:
            if s >> i & 1:
                continue
            size = bin(s).count("1")
            weight = factorial(size) * factorial(N - size - 1) / factorial(N)
            total += weight * (v[s | 1 << i] - v[s])
        phi.append(total)
    return phi
