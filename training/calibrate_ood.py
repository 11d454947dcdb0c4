"""`python -m training.calibrate_ood --cache cache`: fit the out-of-distribution guard on the feature
caches and write `checkpoints/ood-<spec id>.safetensors`.

Per modality: a low-rank Gaussian on the mean-pooled features of every TRAINING item that has the
modality (all corpora of the cache folder that carry it, training-time voice variants included if
the cache holds them, since the models saw them), thresholds at the 95th / 99th percentile of the
score on the VALIDATION items (msa_demo/models/ood.py). Run it at ship time, after extraction, on
the caches the shipped models were trained on. It reads whatever feature spec the caches hold and
names the file by it; the app loads the file of its own spec, so a stale calibration is never used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from msa_demo.corpora.cache import CacheError, FeatureCache, read_meta
from msa_demo.features.spec import FEATURE_SPEC_ID, MODALITIES
from msa_demo.models.ood import MAX_RANK, fit_guard, guard_path, pooled


def find_caches(root: Path, spec_id: str | None = None) -> tuple[str, list[FeatureCache]]:
    """The corpus caches under `root` of one feature spec: `spec_id` if given, else the running
    extractors' spec if any cache has it, else the only spec present."""
    metas = {p.parent: m for p in sorted(root.glob("*/meta.json")) if (m := read_meta(p.parent))}
    specs = Counter(m.get("feature_spec_id") for m in metas.values())
    if not specs:
        raise CacheError(f"no feature caches under {root}: run python -m training.extract_shared first")
    if spec_id is None:
        if FEATURE_SPEC_ID in specs:
            spec_id = FEATURE_SPEC_ID
        elif len(specs) == 1:
            spec_id = next(iter(specs))
        else:
            raise CacheError(f"caches of several specs under {root} ({', '.join(sorted(specs))}): pass --spec")
    caches = []
    for folder, meta in metas.items():
        if meta.get("feature_spec_id") == spec_id:
            try:
                caches.append(FeatureCache(folder, spec_id=spec_id))
            except CacheError as exc:  # unfinished extraction: say so, use the rest
                print(f"skip {folder.name}: {exc}", file=sys.stderr)
    if not caches:
        raise CacheError(f"no finished cache of spec {spec_id} under {root}")
    return spec_id, caches


def pooled_vectors(caches: list[FeatureCache], split: str, max_per_corpus: int | None,
                   seed: int = 0) -> tuple[dict[str, list], dict[str, list[str]]]:
    """{modality: [pooled vectors]} over `split` of every cache (at most `max_per_corpus` items of
    each, drawn with a seeded generator), and which corpora gave each modality."""
    vectors: dict[str, list] = defaultdict(list)
    sources: dict[str, list[str]] = defaultdict(list)
    rng = np.random.default_rng(seed)
    for cache in caches:
        rows = cache.rows(split)
        if max_per_corpus is not None and len(rows) > max_per_corpus:
            keep = set(rng.choice(len(rows), max_per_corpus, replace=False).tolist())
            rows = [r for i, r in enumerate(rows) if i in keep]
        used = set()
        for row in rows:  # index order: each shard is read once
            item = cache.get(row["id"])
            for m in MODALITIES:
                x = pooled(item.features.get(m))
                if x is not None:
                    vectors[m].append(x)
                    used.add(m)
        corpus = cache.meta.get("corpus", cache.path.name)
        for m in used:
            sources[m].append(corpus)
    return vectors, sources


def calibrate(cache_root: Path, out: Path, spec_id: str | None = None, max_per_corpus: int | None = 5000,
              max_rank: int = MAX_RANK) -> tuple[Path, dict]:
    spec_id, caches = find_caches(Path(cache_root), spec_id)
    train, train_sources = pooled_vectors(caches, "train", max_per_corpus, seed=0)
    valid, _ = pooled_vectors(caches, "valid", max_per_corpus, seed=1)
    guard = fit_guard(train, valid, spec_id, max_rank=max_rank)
    summary = {}
    for m, g in guard.guards.items():
        g.info["corpora"] = sorted(train_sources[m])
        weights = [g.weight(s) for s in g.score(np.array(valid[m]))] if valid.get(m) else []
        summary[m] = {**g.info, "q95": round(g.q95, 1), "q99": round(g.q99, 1),
                      "validation_reduced_share": round(float(np.mean(np.array(weights) < 1)), 4) if weights else None}
    path = guard.save(guard_path(out, spec_id))
    return path, summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.calibrate_ood", description=__doc__.splitlines()[0])
    p.add_argument("--cache", default="cache", help="folder of <corpus>/ feature caches")
    p.add_argument("--out", default="checkpoints", help="where ood-<spec id>.safetensors is written")
    p.add_argument("--spec", default=None, help="feature spec id (default: the running one, else the only one)")
    p.add_argument("--max-per-corpus", type=int, default=5000, help="items per corpus and split (seeded draw)")
    p.add_argument("--rank", type=int, default=MAX_RANK, help="principal directions per modality")
    args = p.parse_args(argv)
    try:
        path, summary = calibrate(Path(args.cache), Path(args.out), args.spec, args.max_per_corpus, args.rank)
    except CacheError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
