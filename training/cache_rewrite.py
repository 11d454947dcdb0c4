"""Bring a feature cache up to the current spec when the spec changed in one entry that can be
recomputed from what the cache holds (training.reembed_text, training.restamp_cache): each shard is
rewritten whole (tmp + rename) with the current spec id, shards already at it are skipped
(resumable), and a cache of any other spec is refused — that one needs a re-extraction.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Callable

from msa_demo.corpora.cache import CacheError, read_meta, write_index
from msa_demo.features.spec import FEATURE_SPEC_ID


def rewrite_cache(folder: Path, source_spec_id: str, what: str,
                  transform: Callable[[dict, list[dict]], int]) -> dict:
    """Apply `transform(tensors, index rows)` (in place; returns how many items it changed) to every
    shard of spec `source_spec_id`; returns counts, and records the run in meta.json."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    started = time.perf_counter()
    meta = read_meta(folder)
    if meta is None or not meta.get("complete"):
        raise CacheError(f"{folder}: not a finished feature cache")
    if meta["feature_spec_id"] not in (source_spec_id, FEATURE_SPEC_ID):
        raise CacheError(f"{folder} holds spec {meta['feature_spec_id']}; only {source_spec_id} differs from "
                         f"{FEATURE_SPEC_ID} in the {what} alone: re-extract it instead")
    shards = sorted((folder / "shards").glob("shard-*.safetensors"))
    done = items = 0
    for path in shards:
        with safe_open(str(path), "np") as fh:
            header = dict(fh.metadata())
            if header.get("spec_id") == FEATURE_SPEC_ID:
                continue
            if header.get("spec_id") != source_spec_id:
                raise CacheError(f"{path} holds spec {header.get('spec_id')}, not {source_spec_id}")
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        items += transform(tensors, json.loads(header["rows"]))
        header["spec_id"] = FEATURE_SPEC_ID
        tmp = path.with_name(path.name + ".tmp")
        save_file(tensors, str(tmp), metadata=header)
        os.replace(tmp, path)
        done += 1
    meta["feature_spec_id"] = FEATURE_SPEC_ID
    meta.setdefault("extraction_runs", []).append({
        "rewritten": what, "from_spec_id": source_spec_id, "shards": done, "items": items,
        "wall_s": round(time.perf_counter() - started, 1)})
    with open(folder / "index.csv", newline="", encoding="utf-8") as fh:
        index = list(csv.DictReader(fh))
    write_index(folder, index, meta)
    return {"cache": str(folder), "shards_rewritten": done, "shards": len(shards), "items": items}
