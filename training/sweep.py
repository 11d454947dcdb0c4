"""`python -m training.sweep`: every model x every seed, `--jobs` runs at a time, timed.

Each run is its own `python -m training.train` process (one torch thread each, so `--jobs 2`
fills 2 cores), logging to `<out>/<model>/seed<N>.log`. Runs whose checkpoint already exists are
skipped, so an interrupted sweep resumes. The wall time of the whole sweep and of each run goes to
`<out>/sweep.json`: that is where README's training-time figure comes from.

    python -m training.sweep --jobs 2                                   # 6 models x 3 seeds
    python -m training.sweep --corpora meld,ravdess,fer2013 --out runs-dg   # domain generalisation
    python -m training.sweep --jobs 18 --ray auto                       # on a running Ray cluster
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from msa_demo.models import list_models

from .config import SEEDS


def train_command(model: str, seed: int, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "training.train", "--model", model, "--seed", str(seed),
            "--out", str(out), "--quiet", *extra]


def run_one(model: str, seed: int, out: Path, extra: list[str]) -> dict:
    target = out / model / f"seed{seed}.safetensors"
    if target.is_file():
        return {"model": model, "seed": seed, "status": "exists", "seconds": 0.0}
    target.parent.mkdir(parents=True, exist_ok=True)
    command = train_command(model, seed, out, extra)
    started = time.perf_counter()
    with open(target.with_suffix(".log"), "w") as log:
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode
    seconds = round(time.perf_counter() - started, 1)
    status = "ok" if code == 0 else f"failed (exit {code}, see {target.with_suffix('.log')})"
    print(f"{model} seed {seed}: {status} in {seconds:.0f} s", flush=True)
    return {"model": model, "seed": seed, "status": status, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.sweep", description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(list_models()))
    p.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="runs")
    p.add_argument("--corpora", default=None, help="passed to training.train (default: all four)")
    p.add_argument("--config", default=None, help="passed to training.train")
    p.add_argument("--cache-root", default="cache")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run on Ray: one task per run, --jobs at a time (no ADDRESS: Ray on this machine; "
                        "else auto, HOST:6379, ray://HOST:10001); needs requirements-cluster.txt")
    args = p.parse_args(argv)
    extra = ["--cache-root", args.cache_root]
    extra += ["--corpora", args.corpora] if args.corpora else []
    extra += ["--config", args.config] if args.config else []
    out = Path(args.out)
    jobs = [(m, int(s)) for s in args.seeds.split(",") for m in args.models.split(",")]
    started = time.perf_counter()
    if args.ray is not None:
        from .ray_sweep import sweep_on_ray

        results = sweep_on_ray(jobs, out, extra, args.jobs, args.ray)
    else:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda job: run_one(*job, out, extra), jobs))
    summary = {"jobs": args.jobs, "corpora": args.corpora or "all", "ray": args.ray, "runs": results,
               "wall_seconds": round(time.perf_counter() - started, 1)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(summary, indent=1) + "\n")
    failed = [r for r in results if not (r["status"] in ("ok", "exists"))]
    print(f"sweep: {len(results) - len(failed)}/{len(results)} runs done in {summary['wall_seconds']:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
