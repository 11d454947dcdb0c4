"""MMSA feature pickles (aligned_50.pkl / unaligned_50.pkl …) as a cache source, for users who have them.

TRUSTED INPUT ONLY: a pickle can run code when loaded. This reader unpickles only the path an
operator names on the command line (`--root FILE`); the app never opens one a visitor uploads.

MMSA's features (BERT 768-d text, COVAREP audio, Facet/OpenFace vision) are not ours, so the cache
gets its own feature spec id, derived from the file name and the three widths, and is marked as
not usable on live media: a model trained on it can be evaluated on MMSA features only.
Layout (thuiar/MMSA): {train, valid, test} -> {text [N,T,768], audio [N,T,Da], vision [N,T,Dv],
regression_labels [N], raw_text [N], id [N], audio_lengths / vision_lengths (unaligned only)}.
"""

from __future__ import annotations

import pickle
from typing import Iterator

import numpy as np

from ..features.types import ModalityFeatures
from .base import SPLITS, CorpusError, CorpusItem, CorpusReader

MODALITY_KEYS = {"text": "text", "audio": "audio", "visual": "vision"}
REQUIRED_KEYS = ("regression_labels", "id")


class MmsaReader(CorpusReader):
    name = "mmsa"
    licence = "as given by the user (--licence); MMSA's processed MOSI/MOSEI/SIMS keep their corpora's terms"
    source = "an MMSA feature pickle (trusted input)"
    modalities = ("text", "audio", "visual")
    shard_size = 512
    precomputed = True

    def __init__(self, root, licence: str | None = None):
        super().__init__(root)
        if not self.root.is_file():
            raise CorpusError(f"mmsa: --root must name the .pkl file itself, not {self.root}")
        if licence:
            self.licence = licence
        self._data: dict | None = None
        self._where: dict[str, tuple[str, int]] = {}

    # --- loading ------------------------------------------------------------------------------
    @property
    def data(self) -> dict:
        if self._data is None:
            self._data = self._load()
        return self._data

    def _load(self) -> dict:
        try:
            with open(self.root, "rb") as fh:
                data = pickle.load(fh)  # trusted input: see the module docstring
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
            raise CorpusError(f"mmsa: {self.root.name} is not a readable MMSA pickle ({exc})") from None
        if not isinstance(data, dict) or not any(s in data for s in ("train", "valid", "test")):
            raise CorpusError(f"mmsa: {self.root.name} is not a dict with train/valid/test splits")
        for split, part in data.items():
            if split not in SPLITS:
                continue
            missing = [k for k in REQUIRED_KEYS if k not in part]
            if missing or not any(k in part for k in MODALITY_KEYS.values()):
                raise CorpusError(f"mmsa: split '{split}' lacks {', '.join(missing) or 'text/audio/vision'}")
        return data

    @property
    def feature_dims(self) -> dict[str, int]:
        dims = {}
        part = next(self.data[s] for s in SPLITS if s in self.data)
        for m, key in MODALITY_KEYS.items():
            dims[m] = int(np.asarray(part[key]).shape[-1]) if key in part else 0
        return dims

    @property
    def spec_id(self) -> str:
        d = self.feature_dims
        return f"mmsa-{self.root.stem}-t{d['text']}a{d['audio']}v{d['visual']}"

    @property
    def live_media(self) -> bool:
        return False

    # --- items --------------------------------------------------------------------------------
    def items(self) -> Iterator[CorpusItem]:
        self._where = {}
        labels_seen = []
        for split in SPLITS:
            part = self.data.get(split)
            if part is None:
                continue
            raw_text = part.get("raw_text", [""] * len(part["id"]))
            annotations = part.get("annotations", [""] * len(part["id"]))
            labels = np.asarray(part["regression_labels"]).reshape(-1)
            for i, (uid, label) in enumerate(zip(part["id"], labels)):
                uid = str(uid)
                if uid in self._where:
                    raise CorpusError(f"mmsa: id {uid} occurs twice")
                self._where[uid] = (split, i)
                labels_seen.append(float(label))
                yield CorpusItem(id=uid, split=split, label=float(label),
                                 label_class=str(annotations[i] or "").lower(), text=str(raw_text[i]),
                                 media=None, group=uid.split("$_$")[0])
        if labels_seen and max(abs(v) for v in labels_seen) <= 1.0:
            self.notes.append("labels lie within −1..1 (CH-SIMS scale?): they are kept as they are, "
                              "not rescaled to MOSI's −3..3")

    def features(self, item: CorpusItem) -> dict[str, ModalityFeatures]:
        """The pickle's arrays for one item, trimmed to their valid length, non-finite values -> 0."""
        if not self._where:
            for _ in self.items():
                pass
        split, i = self._where[item.id]
        part = self.data[split]
        out = {}
        for m, key in MODALITY_KEYS.items():
            if key not in part:
                out[m] = ModalityFeatures.absent(self.feature_dims[m])
                continue
            out[m] = _trimmed(np.asarray(part[key][i], dtype=np.float32), _valid_length(part, key, i))
        return out


def _valid_length(part: dict, key: str, i: int) -> int | None:
    """Unaligned files give lengths; text's comes from the BERT mask; None = trim trailing zero rows."""
    if f"{key}_lengths" in part:
        return int(part[f"{key}_lengths"][i])
    if key == "text" and "text_bert" in part:
        return int(np.asarray(part["text_bert"][i])[1].sum())
    return None


def _trimmed(values: np.ndarray, length: int | None) -> ModalityFeatures:
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)  # MMSA's COVAREP holds -inf
    if length is None:
        nonzero = np.flatnonzero(np.abs(values).sum(axis=1) > 0)
        length = int(nonzero[-1]) + 1 if len(nonzero) else 0
    length = max(0, min(length, len(values)))
    values = values[:length]
    times = np.full((length, 2), np.nan, np.float32)
    return ModalityFeatures(values, np.ones(length, bool), times, present=length > 0)
