"""Feature caches on disk: safetensors shards of ragged sequences, a CSV index and meta.json.

Layout of a cache folder (no pickles, so a cache from anywhere is safe to open):
    meta.json                 feature spec id and widths, corpus, licence, splits, extraction runs
    index.csv                 one row per item: id, split, label, classes, text, media, per-modality
                              present/length, shard and row
    shards/shard-00000.safetensors
        per modality m: m.values [sum T, D] float32, m.mask [sum T] bool, m.times [sum T, 2] float32,
        m.offsets [n+1] int64 (item i is rows offsets[i]:offsets[i+1]), m.present [n] bool;
        metadata: spec id, corpus, and the shard's index rows as JSON.
A modality that is off is present=False with zero rows; steps without an observation (frames with
no face) are rows with mask False, values zero. The voice is stored raw, before it is measured
against a speaker's median (features/voice_reference.py); a reader chooses whose median: the
recording's own (what one upload gets, the default) or its speaker's (all the recordings of the
item's `group`, e.g. a RAVDESS actor). Shards are written whole (tmp + rename), which is
what makes extraction resumable: a shard on disk is finished.
"""

from __future__ import annotations

import csv
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..features.spec import FEATURE_SPEC_ID, MODALITIES
from ..features.types import ModalityFeatures
from ..features.voice_reference import VoiceReference, combine, reference_of, relative_to

CACHE_FORMAT = "msa-feature-cache/1"
OWN, SPEAKER = "own", "speaker"  # whose median the voice is measured against on reading
SHARD_DIR = "shards"
INDEX_COLUMNS = ["id", "split", "group", "label", "label_class", "label_detail", "text", "text_source",
                 "source", "shard", "row"] + [f"{m}_{k}" for m in MODALITIES for k in ("present", "len")] + [
                 "face_fraction", "voiced_fraction", "duration", "notices"]
_TYPES = {"label": float, "row": int, "face_fraction": float, "voiced_fraction": float, "duration": float,
          **{f"{m}_len": int for m in MODALITIES},
          **{f"{m}_present": lambda v: v == "True" for m in MODALITIES}}


class CacheError(Exception):
    """A cache folder that is missing, incomplete, or made with another feature spec."""


def shard_name(number: int) -> str:
    return f"{SHARD_DIR}/shard-{number:05d}.safetensors"


# --- writing --------------------------------------------------------------------------------------
def write_shard(path: Path, rows: list[dict], features: list[dict[str, ModalityFeatures]],
                dims: dict[str, int], spec_id: str, corpus: str) -> None:
    """One shard: ragged arrays per modality (values concatenated + offsets) and the index rows."""
    from safetensors.numpy import save_file

    tensors = {}
    for i, row in enumerate(rows):
        row["shard"], row["row"] = f"{SHARD_DIR}/{path.name}", i
    for m in MODALITIES:
        parts = [f.get(m) or ModalityFeatures.absent(dims[m]) for f in features]
        lengths = [len(p.values) for p in parts]
        tensors[f"{m}.offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tensors[f"{m}.present"] = np.array([p.present for p in parts], dtype=bool)
        tensors[f"{m}.values"] = _concat([p.values for p in parts], (0, dims[m]), np.float32)
        tensors[f"{m}.mask"] = _concat([p.mask for p in parts], (0,), bool)
        tensors[f"{m}.times"] = _concat([p.times for p in parts], (0, 2), np.float32)
        for row, part in zip(rows, parts):
            row[f"{m}_present"], row[f"{m}_len"] = bool(part.present), len(part.values)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": CACHE_FORMAT, "spec_id": spec_id, "corpus": corpus,
                                           "rows": json.dumps(rows)})
    os.replace(tmp, path)


def _concat(arrays: list[np.ndarray], empty_shape: tuple, dtype) -> np.ndarray:
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return np.zeros(empty_shape, dtype)
    return np.ascontiguousarray(np.concatenate(arrays), dtype=dtype)


def shard_rows(path: Path) -> list[dict] | None:
    """The index rows stored in a finished shard (read from its header only); None if unreadable."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "np") as fh:
            return json.loads(fh.metadata()["rows"])
    except Exception:  # a truncated or foreign file is simply not a finished shard
        return None


def shard_spec(path: Path) -> str | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "np") as fh:
            return fh.metadata().get("spec_id")
    except Exception:
        return None


def write_index(folder: Path, rows: list[dict], meta: dict) -> None:
    """index.csv and meta.json, each replaced whole so a reader never sees half of one."""
    tmp = folder / "index.csv.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=INDEX_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, folder / "index.csv")
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "meta.json")


def read_meta(folder: Path) -> dict | None:
    path = Path(folder) / "meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# --- reading --------------------------------------------------------------------------------------
@dataclass
class CachedItem:
    """One item's features (modality -> ModalityFeatures) with its index row (label, split, text…)."""

    id: str
    row: dict
    features: dict[str, ModalityFeatures]

    @property
    def label(self) -> float:
        return self.row["label"]

    @property
    def split(self) -> str:
        return self.row["split"]


class FeatureCache:
    """Read a cache folder written by training/extract.py.

    `spec_id`, when given, must match the cache's (pass msa_demo.features.FEATURE_SPEC_ID to refuse
    caches made by other extractors, e.g. an MMSA cache where live-media features are needed).
    """

    def __init__(self, path: str | Path, spec_id: str | None = None, keep_shards: int = 4):
        self.path = Path(path)
        meta = read_meta(self.path)
        if meta is None:
            raise CacheError(f"{self.path} is not a feature cache (no meta.json): "
                             "make one with python -m training.extract")
        if meta.get("format") != CACHE_FORMAT:
            raise CacheError(f"{self.path}: cache format {meta.get('format')} is not {CACHE_FORMAT}")
        if not meta.get("complete"):
            raise CacheError(f"{self.path}: extraction did not finish; rerun it to complete the cache")
        if spec_id is not None and meta["feature_spec_id"] != spec_id:
            raise CacheError(f"{self.path} holds features of spec {meta['feature_spec_id']}, "
                             f"not {spec_id}: re-extract it with the current extractors")
        self.meta = meta
        self.index = self._read_index()
        self._position = {row["id"]: i for i, row in enumerate(self.index)}
        self._shards: OrderedDict[str, dict] = OrderedDict()
        self._keep = keep_shards
        self._speakers: dict[str, VoiceReference] | None = None

    def _read_index(self) -> list[dict]:
        with open(self.path / "index.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            for key, cast in _TYPES.items():
                row[key] = cast(row[key])
        return rows

    @property
    def spec_id(self) -> str:
        return self.meta["feature_spec_id"]

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._position

    def rows(self, split: str | None = None) -> list[dict]:
        return [r for r in self.index if split is None or r["split"] == split]

    def ids(self, split: str | None = None) -> list[str]:
        return [r["id"] for r in self.rows(split)]

    def get(self, item_id: str, baseline: str = OWN) -> CachedItem:
        """One item; its voice measured against `baseline`: OWN (the recording's median) or SPEAKER
        (the median of every recording of its group)."""
        row, features = self._raw(item_id)
        audio = features.get("audio")
        # only the live spec's caches hold the raw voice (an MMSA or older cache holds its own features)
        if self.spec_id == FEATURE_SPEC_ID and audio is not None and audio.present and len(audio.values):
            reference = self.speaker_reference(row["group"]) if baseline == SPEAKER else None
            reference = reference or reference_of(audio.values, audio.mask)
            features["audio"] = ModalityFeatures(relative_to(audio.values, audio.mask, reference), audio.mask,
                                                 audio.times, audio.present)
        return CachedItem(item_id, row, features)

    __getitem__ = get

    def iter(self, split: str | None = None, baseline=OWN) -> Iterator[CachedItem]:
        """Items in index (= shard) order, so each shard is read once. `baseline`: OWN, SPEAKER, or a
        function of the index row giving one of them."""
        for row in self.rows(split):
            yield self.get(row["id"], baseline(row) if callable(baseline) else baseline)

    def speaker_reference(self, group: str) -> VoiceReference | None:
        """The median of every recording of `group` (a speaker) in the cache, all splits; None for no
        group or no voice."""
        if not group:
            return None
        if self._speakers is None:
            by_group: dict[str, list] = {}
            for row in self.index:
                if row["group"] and row.get("audio_present"):
                    audio = self._raw(row["id"])[1]["audio"]
                    by_group.setdefault(row["group"], []).append(reference_of(audio.values, audio.mask))
            self._speakers = {g: combine(refs) for g, refs in by_group.items()}
        return self._speakers.get(group)

    def _raw(self, item_id: str) -> tuple[dict, dict[str, ModalityFeatures]]:
        if item_id not in self._position:
            raise KeyError(f"{item_id} is not in the cache at {self.path}")
        row = self.index[self._position[item_id]]
        arrays = self._shard(row["shard"])
        return row, {m: _slice(arrays, m, row["row"]) for m in MODALITIES}

    __iter__ = iter

    def media_path(self, row: dict, root: str | Path | None = None) -> str:
        """Where an item's media is ("archive.zip::member" inside a zip; "" if none).

        `source` is stored relative to the corpus root, so a cache still finds its media when
        ../shared moves: pass the new root.
        """
        if not row["source"]:
            return ""
        base = Path(root) if root is not None else Path(self.meta["media_root"])
        return str(base / row["source"])

    def _shard(self, name: str) -> dict:
        from safetensors.numpy import load_file

        if name not in self._shards:
            path = self.path / name
            if not path.is_file():
                raise CacheError(f"{path} is missing: the cache is damaged, re-run its extraction")
            self._shards[name] = load_file(str(path))
            while len(self._shards) > self._keep:
                self._shards.popitem(last=False)
        self._shards.move_to_end(name)
        return self._shards[name]


def _slice(arrays: dict, m: str, i: int) -> ModalityFeatures:
    a, b = arrays[f"{m}.offsets"][i], arrays[f"{m}.offsets"][i + 1]
    return ModalityFeatures(arrays[f"{m}.values"][a:b], arrays[f"{m}.mask"][a:b], arrays[f"{m}.times"][a:b],
                            present=bool(arrays[f"{m}.present"][i]))
