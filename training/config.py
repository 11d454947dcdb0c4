"""Training hyper-parameters: defaults here, overridden by `--config FILE` (JSON) and the CLI.

One recipe for every model (the comparison isolates the method); `model` holds per-model config
overrides passed to `create_model`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

SEEDS = (1111, 1112, 1113)


@dataclass
class TrainConfig:
    corpora: list[str] = field(default_factory=lambda: ["mosi", "meld", "ravdess", "fer2013"])
    max_epochs: int = 24
    samples_per_epoch: int = 6144  # drawn with the balanced sampler, each corpus equally often …
    corpus_weights: dict = field(default_factory=lambda: {"ravdess": 2.0})  # … but RAVDESS twice: the
    # voice's prosodic evidence is weak and learns late (spec v3: at chance after 15 epochs at 4096 x 1/4)
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 5  # epochs without a better val/loss before stopping …
    min_epochs: int = 12  # … and never before this many (module.EarlyStoppingFrom): the voice starts to
    # learn at epoch 4-8 (runs/*/seed*.log); mmmie seed 1112 stopped at epoch 9 before it had
    polarity_weight: float = 1.0  # × the ordinal polarity cross-entropy on class-labelled corpora, beside
    # L1 (training/module.py; 0 = L1 alone, as before spec v3)
    modality_dropout: float = 0.2  # whole-modality dropout per present modality
    max_missing_rate: float = 0.9  # LNLN frame/token drop: r ~ U(0, max) …
    p_complete: float = 0.5  # … reset to 0 for this share of samples and modalities
    class_balanced: list[str] = field(default_factory=lambda: ["ravdess", "fer2013"])  # polarities drawn
    # equally often within these (acted) corpora, so their class mix is no prior (training/data.py)
    speaker_baseline_share: float = 0.5  # training voices measured against their actor's median, the
    # rest against their own (training/data.py; validation and test: their own, as one upload is)
    composites: int = 2048  # synthetic tri-modal training examples (0 = none)
    valid_composites: int = 600  # synthetic ones from validation splits, in val/loss (0 = none)
    limit_per_corpus: int | None = None  # for smoke tests: first N items of each corpus and split
    num_workers: int = 0
    threads: int = 1  # torch CPU threads per run: the tensors are small, so extra threads only cost;
    # parallel runs (training.sweep --jobs) use the other cores
    model: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides) -> "TrainConfig":
        values = json.loads(Path(path).read_text()) if path else {}
        values.update({k: v for k, v in overrides.items() if v is not None})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)
