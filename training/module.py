"""The Lightning wrapper: one training recipe for all six models, so they differ only in the model.

Training step: whole-modality dropout + LNLN frame/token drop (random rates), task loss on the
score plus the model's own weighted auxiliary losses. The task loss is L1 on the valence; on the
class-labelled corpora (MELD, RAVDESS, FER2013) plus `polarity_weight` × an ordinal cross-entropy of
their polarity class on the same single score (objectives.polarity_cross_entropy says why).
Validation: every corpus's MAE on the valid split, + on the class-labelled corpora the weighted
balanced polarity-3 error, averaged with equal weight per corpus — the number early stopping and
checkpoint choice watch (validation only; the test split is never seen here).
"""

from __future__ import annotations

import copy
from collections import defaultdict

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping

from msa_demo.corpora.labels import polarity3_index
from msa_demo.models import apply_missing, sample_modality_dropout, sample_training_rates
from msa_demo.models.objectives import masked_average, polarity_cross_entropy

from .config import TrainConfig
from .data import DOMAINS


class MSALightning(L.LightningModule):
    def __init__(self, model: torch.nn.Module, cfg: TrainConfig):
        super().__init__()
        self.model = model
        self.cfg = cfg
        self._val: dict[str, list] = defaultdict(list)
        self.best_state: dict | None = None
        self.best_score = float("inf")
        self.history: list[dict] = []

    def on_train_epoch_start(self):
        self.model.start_epoch(self.current_epoch)  # a method's own schedule (MISR's warm-up)

    def training_step(self, batch, batch_idx):
        present = sample_modality_dropout(batch.present, self.cfg.modality_dropout)
        rates = sample_training_rates(len(batch), p_complete=self.cfg.p_complete) * self.cfg.max_missing_rate
        degraded = apply_missing(batch, present=present.to(batch.device), rate=rates.to(batch.device))
        out = self.model(degraded, with_losses=True)
        task = self.model.task_loss(out.score, batch.label).mean()
        if self.cfg.polarity_weight:
            task = task + self.cfg.polarity_weight * masked_average(
                polarity_cross_entropy(out.score, batch.label), class_rows(batch.domain))
        aux = out.aux_loss()
        loss = task + aux
        self.log_dict({"train/task": task, "train/aux": aux}, prog_bar=True, batch_size=len(batch))
        for name, value in out.logs.items():
            self.log(f"train/{name}", value, batch_size=len(batch))
        return loss

    def validation_step(self, batch, batch_idx):
        out = self.model(batch, with_losses=False)
        self._val["score"].append(out.score.detach().float().cpu())
        self._val["label"].append(batch.label.cpu())
        self._val["domain"].append(batch.domain.cpu())

    def on_validation_epoch_end(self):
        if not self._val:
            return
        score = torch.cat(self._val["score"]).numpy()
        label = torch.cat(self._val["label"]).numpy()
        domain = torch.cat(self._val["domain"]).numpy()
        self._val.clear()
        metrics = validation_metrics(score, label, domain, self.cfg.polarity_weight)
        self.log_dict({k: v for k, v in metrics.items() if k != "val/loss"}, sync_dist=True)
        self.log("val/loss", metrics["val/loss"], prog_bar=True, sync_dist=True)
        if not self.trainer.sanity_checking:
            self.history.append({"epoch": self.current_epoch, **{k: float(v) for k, v in metrics.items()}})
            self.print(f"epoch {self.current_epoch}: " + ", ".join(  # one line per epoch, for logs
                f"{k[4:]} {v:.3f}" for k, v in metrics.items()), flush=True)
            if metrics["val/loss"] < self.best_score:  # keep the best weights in memory (no pickle)
                self.best_score = float(metrics["val/loss"])
                self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in self.model.state_dict().items()})

    def configure_optimizers(self):
        return torch.optim.AdamW(self.model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)


class EarlyStoppingFrom(EarlyStopping):
    """Lightning's early stopping, allowed to stop only from epoch `min_epochs` on, and then only if
    the patience has run out *then*. (The Trainer's own `min_epochs` defers a stop signalled earlier
    and honours it at `min_epochs` even when the run has improved since: mmmie seed 1112 did.) The
    voice starts to learn at epoch 4-8, after a plateau long enough to trip a patience of 5."""

    def __init__(self, min_epochs: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.min_epochs = min_epochs

    def _run_early_stopping_check(self, trainer) -> None:
        super()._run_early_stopping_check(trainer)
        if trainer.current_epoch + 1 < self.min_epochs:
            trainer.should_stop = False
            self.stopped_epoch = 0


CLASS_CORPORA = ("meld", "ravdess", "fer2013")  # labelled by class: the polarity loss applies


def class_rows(domain: torch.Tensor) -> torch.Tensor:
    """[B] bool: rows from a class-labelled corpus (not MOSI's graded labels, not the composites)."""
    return torch.isin(domain, torch.tensor([DOMAINS.index(c) for c in CLASS_CORPORA], device=domain.device))


def validation_metrics(score: np.ndarray, label: np.ndarray, domain: np.ndarray,
                       polarity_weight: float = 0.0) -> dict[str, float]:
    """Per-corpus MAE and polarity-3 accuracy; val/loss = mean of the per-corpus MAEs, + on the
    class-labelled corpora polarity_weight × (1 − balanced polarity-3 accuracy).

    The validation composites (domain -1, built from validation splits: training/composite_eval.py)
    count as one more "corpus", so the checkpoint is not chosen on unimodal inputs alone.
    """
    metrics, maes = {}, []
    for d, name in [*enumerate(DOMAINS), (-1, "composite")]:
        rows = domain == d
        if not rows.any():
            continue
        mae = float(np.abs(score[rows] - label[rows]).mean())
        acc = float((polarity3_index(score[rows]) == polarity3_index(label[rows])).mean())
        metrics[f"val/{name}_mae"] = mae
        metrics[f"val/{name}_pol3"] = acc
        if polarity_weight and name in CLASS_CORPORA:
            # the class skill itself (balanced: the class mix is no prior), not the cross-entropy: on
            # two unseen validation actors a voice that has just begun to read emotion is
            # overconfident, and its cross-entropy would choose the epoch before it learnt
            truth, guess = polarity3_index(label[rows]), polarity3_index(score[rows])
            balanced = float(np.mean([(guess[truth == c] == c).mean() for c in np.unique(truth)]))
            metrics[f"val/{name}_bal3"] = balanced
            mae += polarity_weight * (1.0 - balanced)
        maes.append(mae)
    metrics["val/loss"] = float(np.mean(maes)) if maes else float("nan")
    return metrics
