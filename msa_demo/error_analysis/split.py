"""Error analysis on a cached corpus split: where a model goes wrong, and on which inputs.

A model is run once over every item of a split from the feature caches (batched, no_grad) and the
result is kept in memory per (model, corpus, split), so filtering, sorting and re-opening the tab
cost nothing. One row per item: label, prediction, absolute error, polarities, the unimodal
predictions and whether they disagree in sign (`modality_conflict`). The metrics are those of
`python -m training.evaluate` (error_analysis/evaluation.py), so the tab and the reports agree.

No Gradio here: ui/error_table.py is a thin view over this module. Every problem a user can cause (no
cache, unknown item) is an `ErrorAnalysisError` carrying a message to show, never a traceback.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..corpora.cache import CacheError, FeatureCache, read_meta
from ..corpora.labels import POLARITY3, polarity3_index
from ..errors import MediaError
from .evaluation import corpus_metrics, predict, predict_outputs
from ..features.spec import FEATURE_SPEC_ID, MODALITIES
from ..features.types import ModalityFeatures
from ..models import collate

CACHE_HINT = "run python -m training.extract_shared --shared ../shared --out cache"
CORPUS_ORDER = ("mosi", "meld", "ravdess", "fer2013")  # the data card's order; other caches follow
ALL = "all"  # corpus value meaning "every cache under the root, same split"
SPLIT_ORDER = ("test", "valid", "train")
TRANSCRIPT_CHARS = 80
UNIMODAL_COLUMNS = {m: f"pred_{m}" for m in MODALITIES}
COLUMNS = ["id", "corpus", "split", "label", "label_class", "prediction", "abs_error", "label_polarity",
           "pred_polarity", "modalities", *UNIMODAL_COLUMNS.values(), "modality_conflict", "transcript"]
Progress = Callable[[float, str], None]


class ErrorAnalysisError(MediaError):
    """Something the user can fix (a cache that is absent, an item that is not there)."""


@dataclass
class SplitResult:
    """One model on one corpus split (or every corpus's split when corpus == "all").

    table: one row per item, sorted by abs_error (largest first); unimodal columns that no item
        could fill are left out. metrics: corpus -> metric -> value (training/evaluate.py's names).
    unimodal_source: "heads" (the model's unimodal heads) or "single-modality subsets" (the model
        scored with only that modality on, for models without heads).
    """

    model: str
    corpus: str
    split: str
    table: pd.DataFrame
    metrics: dict[str, dict[str, float]]
    unimodal_source: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- caches on disk -------------------------------------------------------------------------------
_open_lock = threading.Lock()
_caches: dict[tuple[str, int], tuple[FeatureCache, threading.Lock]] = {}


def available_corpora(cache_root: str | Path) -> list[str]:
    """Corpus caches under `cache_root` (folders with a meta.json), in the data card's order."""
    root = Path(cache_root)
    found = [p.name for p in root.iterdir() if (p / "meta.json").is_file()] if root.is_dir() else []
    return sorted(found, key=lambda c: (CORPUS_ORDER.index(c) if c in CORPUS_ORDER else len(CORPUS_ORDER), c))


def split_choices(cache_root: str | Path) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown: "mosi · test (686 items)" -> "mosi/test"; plus every
    corpus at once ("all/test") when there are several. Empty when there is no cache."""
    choices, totals = [], {}
    for corpus in available_corpora(cache_root):
        splits = (read_meta(Path(cache_root) / corpus) or {}).get("splits") or {}
        for split in SPLIT_ORDER:
            if splits.get(split):
                choices.append((f"{corpus} · {split} ({splits[split]:,} items)", f"{corpus}/{split}"))
                totals.setdefault(split, []).append(splits[split])
    for split in SPLIT_ORDER:
        if len(totals.get(split, [])) > 1:
            choices.append((f"all corpora · {split} ({sum(totals[split]):,} items)", f"{ALL}/{split}"))
    return choices


def is_plain_name(name) -> bool:
    """One folder name: no separator, not "." or "..", nothing hidden, no control characters."""
    return (isinstance(name, str) and 0 < len(name) <= 64 and name.isprintable() and "/" not in name
            and "\\" not in name and not name.startswith("."))


def missing_cache_message(path: str | Path) -> str:
    return f"no feature cache under {path}: {CACHE_HINT}"


def open_cache(cache_root: str | Path, corpus: str) -> tuple[FeatureCache, threading.Lock]:
    """The corpus's cache (opened once per process, again if its index changes) and the lock that
    guards its shard buffer, which is not thread-safe.

    `corpus` comes from a request (a dropdown value, a table row the browser sends back): it must be
    a plain folder name directly under `cache_root` ("../x", "a/b", "/etc" are refused), so no
    request reaches another folder."""
    if not is_plain_name(corpus):
        raise ErrorAnalysisError(f"{str(corpus)[:40]!r} is not a corpus name")
    path = Path(cache_root) / corpus
    index = path / "index.csv"
    if not (path / "meta.json").is_file() or not index.is_file():
        raise ErrorAnalysisError(missing_cache_message(path))
    key = (str(path.resolve()), index.stat().st_mtime_ns)
    with _open_lock:
        if key not in _caches:
            try:
                _caches[key] = (FeatureCache(path, spec_id=FEATURE_SPEC_ID), threading.Lock())
            except CacheError as exc:
                raise ErrorAnalysisError(str(exc)) from None
        return _caches[key]


# --- running a model over a split -----------------------------------------------------------------
_results_lock = threading.Lock()
_results: OrderedDict[tuple, tuple[weakref.ref, SplitResult]] = OrderedDict()
KEEP_RESULTS = 32  # a FER2013 test table is ~3.5k rows: tens of them are a few MB


def run_split(model, cache_root: str | Path, corpus: str, split: str, *, name: str | None = None,
              batch_size: int = 256, progress: Progress | None = None) -> SplitResult:
    """Score every item of `corpus`/`split` (corpus "all": every cache under the root).

    Kept in memory per (name, model object, cache, split): a second call returns at once. `progress`
    gets (fraction done, what is running).
    """
    name = name or getattr(model, "model_name", type(model).__name__)
    corpora = available_corpora(cache_root) if corpus == ALL else [corpus]
    if not corpora:
        raise ErrorAnalysisError(missing_cache_message(cache_root))
    sizes = [len(open_cache(cache_root, c)[0].rows(split)) for c in corpora]
    if sum(sizes) == 0:
        raise ErrorAnalysisError(f"{corpus} has no '{split}' items in {cache_root}")
    start, done, parts = time.perf_counter(), 0, []
    for c, n in zip(corpora, sizes):
        if n == 0:
            continue
        report = None
        if progress is not None:
            report = (lambda offset: lambda k, desc: progress((offset + k) / sum(sizes), desc))(done)
        parts.append(_corpus_result(model, name, cache_root, c, split, batch_size, report))
        done += n
    if len(parts) == 1:
        return parts[0]
    table = pd.concat([p.table for p in parts], ignore_index=True)
    table = _sorted(table[[c for c in COLUMNS if c in table]])
    return SplitResult(name, corpus, split, _drop_empty_unimodal(table),
                       {c: m for p in parts for c, m in p.metrics.items()}, parts[0].unimodal_source,
                       time.perf_counter() - start, [n for p in parts for n in p.notes])


def _corpus_result(model, name, cache_root, corpus, split, batch_size, report) -> SplitResult:
    cache, lock = open_cache(cache_root, corpus)
    key = (name, id(model), str(cache.path.resolve()), (cache.path / "index.csv").stat().st_mtime_ns, split)
    with _results_lock:
        hit = _results.get(key)
        if hit is not None and hit[0]() is model:
            _results.move_to_end(key)
            return hit[1]
    with lock:
        result = _score(model, name, cache, corpus, split, batch_size, report)
    with _results_lock:
        _results[key] = (weakref.ref(model), result)
        while len(_results) > KEEP_RESULTS:
            _results.popitem(last=False)
    return result


def _score(model, name, cache: FeatureCache, corpus, split, batch_size, report) -> SplitResult:
    start = time.perf_counter()
    rows = cache.rows(split)
    scores, unimodal, available, sources = [], [], [], set()
    for i in range(0, len(rows), batch_size):
        chunk = rows[i: i + batch_size]
        batch = collate([cache.get(r["id"]).features for r in chunk])
        out = predict_outputs(model, [batch])
        uni, source = unimodal_predictions(model, batch, out)
        scores.append(out["score"])
        unimodal.append(uni)
        available.append(out["available"])
        sources.add(source)
        if report is not None:
            report(i + len(chunk), f"{name} on {corpus} {split}: {i + len(chunk):,} / {len(rows):,} items")
    pred, uni, avail = np.concatenate(scores), np.concatenate(unimodal), np.concatenate(available)
    label = np.array([r["label"] for r in rows], dtype=np.float64)
    table = build_table(rows, corpus, pred, uni, avail)
    metrics = {corpus: {**corpus_metrics(corpus, pred, label), "n": len(rows)}}
    notes = []
    if not avail.any(1).all():
        notes.append(f"{corpus}: {int((~avail.any(1)).sum()):,} items have no usable modality "
                     "(e.g. no face found); the model scores them from its empty-input baseline")
    return SplitResult(name, corpus, split, table, metrics, sources.pop(), time.perf_counter() - start, notes)


def unimodal_predictions(model, batch, out: dict[str, np.ndarray]) -> tuple[np.ndarray, str]:
    """[B, 3] unimodal predictions (NaN where the modality is not available) and where they come
    from: the model's unimodal heads, else the model scored with only that modality switched on
    (for an item with a single modality that is its score; only multi-modal items are re-scored)."""
    avail = out["available"]
    if any(f"unimodal:{m}" in out for m in MODALITIES):
        uni = np.stack([out.get(f"unimodal:{m}", np.full(len(avail), np.nan)) for m in MODALITIES], 1)
        source = "heads"
    else:
        uni = np.full(avail.shape, np.nan)
        single = avail.sum(1) == 1
        uni[single, avail[single].argmax(1)] = out["score"][single]
        multi = np.flatnonzero(avail.sum(1) >= 2)
        if multi.size:
            sub = batch.select(multi.tolist())
            for j, m in enumerate(MODALITIES):
                has = avail[multi, j]
                if has.any():
                    uni[multi[has], j] = predict(model, [sub], present=[m])[has]
        source = "single-modality subsets"
    return np.where(avail, uni, np.nan).astype(np.float64), source


def modality_conflict(unimodal: np.ndarray) -> np.ndarray:
    """[N] True where the available (non-NaN) unimodal predictions disagree in sign: one says
    positive, another negative. Exactly 0 takes no side; one modality cannot conflict."""
    signs = np.sign(np.nan_to_num(np.asarray(unimodal, dtype=np.float64), nan=0.0))
    return (signs > 0).any(1) & (signs < 0).any(1)


def build_table(rows: list[dict], corpus: str, pred: np.ndarray, unimodal: np.ndarray,
                available: np.ndarray) -> pd.DataFrame:
    """The per-item table (see COLUMNS), sorted by absolute error, largest first."""
    label = np.array([r["label"] for r in rows], dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    table = pd.DataFrame({
        "id": [r["id"] for r in rows],
        "corpus": corpus,
        "split": [r["split"] for r in rows],
        "label": label,
        "label_class": [r.get("label_class", "") for r in rows],
        "prediction": pred,
        "abs_error": np.abs(pred - label),
        "label_polarity": [POLARITY3[i] for i in polarity3_index(label)],
        "pred_polarity": [POLARITY3[i] for i in polarity3_index(pred)],
        "modalities": ["+".join(m for m, a in zip(MODALITIES, row) if a) or "none" for row in available],
        **{UNIMODAL_COLUMNS[m]: unimodal[:, j] for j, m in enumerate(MODALITIES)},
        "modality_conflict": modality_conflict(unimodal),
        "transcript": [_snippet(r.get("text", "")) for r in rows],
    }, columns=COLUMNS)
    return _drop_empty_unimodal(_sorted(table))


def _snippet(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TRANSCRIPT_CHARS else text[: TRANSCRIPT_CHARS - 1] + "…"


def _sorted(table: pd.DataFrame, by: str = "abs_error", descending: bool = True) -> pd.DataFrame:
    return table.sort_values([by, "id"], ascending=[not descending, True], kind="mergesort",
                             ignore_index=True)


def _drop_empty_unimodal(table: pd.DataFrame) -> pd.DataFrame:
    empty = [c for c in UNIMODAL_COLUMNS.values() if c in table and table[c].isna().all()]
    return table.drop(columns=empty)


# --- filters --------------------------------------------------------------------------------------
def filter_table(table: pd.DataFrame, *, polarity: str | None = None, corpus: str | None = None,
                 conflict_only: bool = False, min_error: float = 0.0, sort_by: str = "abs_error",
                 descending: bool = True) -> pd.DataFrame:
    """Rows whose label polarity is `polarity`, from `corpus` ("all" / None: any), with a modality
    conflict when `conflict_only`, and abs_error >= `min_error`; sorted by `sort_by`."""
    keep = table["abs_error"] >= float(min_error or 0.0)
    if polarity and polarity != ALL:
        if polarity not in POLARITY3:
            raise ErrorAnalysisError(f"unknown polarity '{polarity}' (use {', '.join(POLARITY3)})")
        keep &= table["label_polarity"] == polarity
    if corpus and corpus != ALL:
        keep &= table["corpus"] == corpus
    if conflict_only:
        keep &= table["modality_conflict"]
    if sort_by not in table:
        raise ErrorAnalysisError(f"cannot sort by '{sort_by}' (columns: {', '.join(table.columns)})")
    return _sorted(table[keep], sort_by, descending)


# --- one sample, for the live-analysis panels ----------------------------------------------------
def load_sample(cache_root: str | Path, corpus: str, split: str, item_id: str,
                media_root: str | Path | None = None
                ) -> tuple[dict[str, ModalityFeatures], str | None, str]:
    """(features modality -> ModalityFeatures, a playable media file or None, transcript) of one
    cached item: what the live tab needs to show its panels without re-extracting anything.

    The media file is a copy in the temp folder (Gradio serves only the working folder and the temp
    folder); see media.py for where each corpus's media is found.
    """
    from .media import sample_media

    # corpus is checked by open_cache; item_id and split are only looked up in the cache's index
    cache, lock = open_cache(cache_root, corpus)
    with lock:
        if item_id not in cache:
            raise ErrorAnalysisError(f"'{item_id}' is not in the {corpus} cache at {cache.path}")
        item = cache.get(item_id)
    if split and item.split != split:
        raise ErrorAnalysisError(f"'{item_id}' is in the {corpus} {item.split} split, not {split}")
    return dict(item.features), sample_media(cache, corpus, item.row, media_root), item.row.get("text", "")
