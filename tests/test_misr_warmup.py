"""MISR's documented schedule: no invariance penalty during the warm-up epochs, then its weight."""

import numpy as np
import torch

from msa_demo.features.spec import FEATURE_DIMS
from msa_demo.features.types import ModalityFeatures
from msa_demo.models import collate, create_model


def _batch():
    rng = np.random.default_rng(0)
    items = [{m: ModalityFeatures(rng.standard_normal((4, d)).astype(np.float32), np.ones(4, bool),
                                  np.zeros((4, 2))) for m, d in FEATURE_DIMS.items()} for _ in range(6)]
    return collate(items, labels=[-2.0, -1.0, 0.0, 1.0, 2.0, 2.5])


def test_invariance_penalty_waits_for_the_warm_up():
    torch.manual_seed(0)
    model = create_model("misr").train()
    batch = _batch()
    for epoch, on in [(0, False), (1, False), (2, True), (5, True)]:
        model.start_epoch(epoch)
        out = model(batch, with_losses=True)
        assert out.logs["invariance"] > 0  # measured every epoch (logged) ...
        assert (out.losses["invariance"] != 0) == on  # ... but trained on only after the warm-up
    assert model.cfg.invariance_warmup_epochs == 2
