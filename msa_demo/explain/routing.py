"""What each model's routing tensor is indexed by, so a chart can label its axes.

Routing weights say where a model sent its computation (gates, expert shares, attention); they are
not attributions of the score: that is what the Shapley values are for.
"""

from __future__ import annotations

from ..features.spec import MODALITIES

_MODS = list(MODALITIES)

# name -> (axis labels per dimension, one-line meaning). A None axis: "expert 1..K".
ROUTING = {
    "modality_weights": ([_MODS], "late fusion: weight of each modality's score in the average"),
    "expert_gates": ([None], "MIDG: top-k gate of each invariant expert"),
    "router_probs": ([None], "MIDG: router probability of each expert before top-k"),
    "adapter_attention": ([_MODS, _MODS + ["nothing"]],
                          "MIDG: share of each stream's cross-modal adapter attention on each source"),
    "expert_importance": ([_MODS + ["shared"]],
                          "DERL: importance of each modality's private expert and of the shared experts"),
    "shared_router": ([_MODS, None], "DERL: each modality's gate over the shared experts"),
    "poe_precision_share": ([["prior"] + _MODS], "MISR: share of each posterior in the joint precision"),
    "fusion_attention": ([_MODS], "MMMIE: fusion token's attention mass on each modality"),
}


def routing_axes(name: str, shape: tuple[int, ...]) -> dict:
    """{"axes": [labels per dim], "meaning": str} for one routing tensor of one sample."""
    axes, meaning = ROUTING.get(name, ([None] * len(shape), name))
    labels = []
    for dim, axis in zip(shape, list(axes) + [None] * (len(shape) - len(axes))):
        if axis is None or len(axis) != dim:
            axis = [f"expert {k + 1}" for k in range(dim)]
        labels.append(list(axis))
    return {"axes": labels, "meaning": meaning}
