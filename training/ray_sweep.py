"""`training.sweep --ray [ADDRESS]`: every (model, seed) run as one Ray task, `--jobs` at a time.

A task runs the same `python -m training.train` command a local sweep runs (its own process, one
torch thread; one GPU where the cluster has them), into a scratch folder on its node, and returns
the checkpoint, card and log; the driver writes them to `--out/<model>/seed<N>.*`, so the outputs
are where a local sweep puts them and a rerun skips the runs already there. A failed run is
reported with its log, never fatal to the others.
"""

from __future__ import annotations

import time
from pathlib import Path

from .ray_cluster import REPO, connect, gpus_per_task


def sweep_on_ray(jobs: list[tuple[str, int]], out: Path, extra: list[str], parallel: int,
                 address: str | None) -> list[dict]:
    ray = connect(address)
    extra = _absolute_paths(extra)
    results, todo = [], []
    for model, seed in jobs:
        if (out / model / f"seed{seed}.safetensors").is_file():
            results.append({"model": model, "seed": seed, "status": "exists", "seconds": 0.0})
        else:
            todo.append((model, seed))
    task = ray.remote(num_cpus=1, num_gpus=gpus_per_task(ray, parallel))(train_in_scratch)
    running: dict = {}
    while todo or running:
        while todo and len(running) < max(1, parallel):
            model, seed = todo.pop(0)
            running[task.remote(model, seed, extra)] = (model, seed)
        done, _ = ray.wait(list(running), num_returns=1)
        model, seed = running.pop(done[0])
        try:
            files, code, seconds = ray.get(done[0])
        except Exception as exc:  # the node or the task died: this run only
            files, code, seconds = {"log": f"{type(exc).__name__}: {exc}".encode()}, -1, 0.0
        target = out / model / f"seed{seed}"
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix, data in files.items():
            target.with_suffix(f".{suffix}").write_bytes(data)
        status = "ok" if code == 0 and "safetensors" in files else \
            f"failed (exit {code}, see {target.with_suffix('.log')})"
        print(f"{model} seed {seed}: {status} in {seconds:.0f} s (ray)", flush=True)
        results.append({"model": model, "seed": seed, "status": status, "seconds": seconds})
    return results


def train_in_scratch(model: str, seed: int, extra: list[str]) -> tuple[dict[str, bytes], int, float]:
    """On a worker: one training run into a temporary folder; ({suffix: bytes}, exit code, seconds)."""
    import subprocess
    import tempfile

    from .sweep import train_command

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="msa-sweep-") as scratch:
        command = train_command(model, seed, Path(scratch), extra)
        run = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        files = {"log": run.stdout}
        for suffix in ("safetensors", "json"):
            path = Path(scratch) / model / f"seed{seed}.{suffix}"
            if path.is_file():
                files[suffix] = path.read_bytes()
    return files, run.returncode, round(time.perf_counter() - started, 1)


def _absolute_paths(extra: list[str]) -> list[str]:
    """--cache-root / --config as absolute paths: a task's working folder is not the driver's."""
    out = list(extra)
    for i, arg in enumerate(out[:-1]):
        if arg in ("--cache-root", "--config"):
            out[i + 1] = str(Path(out[i + 1]).resolve())
    return out
