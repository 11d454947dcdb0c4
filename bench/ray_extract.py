"""`python -m bench.ray_extract`: extraction throughput on Ray with 1 and 2 workers, and what it means
for CMU-MOSEI (65 hours of video), by arithmetic.

Extracts the first `--items` RAVDESS clips (audio + video, transcripts given, as corpus extraction
does) into scratch caches through `training.extract --ray` with each worker count, on a Ray
instance started here, and reports items/s and media seconds per wall second (the clips' own
durations from the cache index), pipeline loading included. MOSEI's 65 h divided by the media rate
is the expected wall time per machine like this one; a cluster of N such machines divides it by N
(extraction is embarrassingly parallel; the driver only writes shards).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

MOSEI_HOURS = 65.0  # CMU-MOSEI: ~23,500 utterances, about 65 hours of video (Zadeh et al., 2018)


def measure(shared: Path, items: int, workers: int) -> dict:
    from msa_demo.corpora import open_corpus
    from msa_demo.corpora.cache import FeatureCache
    from training.extract import extract_corpus

    with tempfile.TemporaryDirectory(prefix="msa-ray-bench-") as scratch:
        started = time.perf_counter()
        extract_corpus(open_corpus("ravdess", shared), Path(scratch), workers=workers, limit=items,
                       shard_size=max(1, items // (4 * workers)), progress=False, ray_address="local")
        wall = time.perf_counter() - started
        media = sum(row["duration"] for row in FeatureCache(scratch).rows())
    return {"workers": workers, "items": items, "wall_s": round(wall, 1),
            "items_per_s": round(items / wall, 3), "media_s_per_wall_s": round(media / wall, 3),
            "mosei_hours_per_machine": round(MOSEI_HOURS * 3600 / (media / wall) / 3600, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ray_extract", description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--items", type=int, default=32)
    p.add_argument("--out", default="reports/ray_extract.json")
    args = p.parse_args(argv)
    from msa_demo.machine import cpu_name
    from training.extract import use_shared_face_model
    from training.ray_cluster import require_ray

    ray = require_ray()
    use_shared_face_model(args.shared)
    runs = []
    for workers in (1, 2):
        runs.append(measure(Path(args.shared), args.items, workers))
        ray.shutdown()  # a fresh instance per worker count: nothing warm is carried over
        print(json.dumps(runs[-1]), flush=True)
    report = {"cpu": cpu_name(), "corpus": "ravdess (first items)", "runs": runs,
              "command": "python -m bench.ray_extract" + (f" --items {args.items}" if args.items != 32 else "")}
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
