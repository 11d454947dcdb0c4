"""Connecting to Ray (`--ray [ADDRESS]` of training.extract and training.sweep), and what every
remote worker needs: this repository on its import path and the MSA_* settings of the driver.

Ray is an optional extra (`pip install -r requirements-cluster.txt`). Every node must see the
repository, the corpus and the cache folders at the same paths (a shared filesystem, or the same
checkout and data on each node); the driver writes every shard and checkpoint itself.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCAL = "local"  # `--ray` without an address: start a Ray instance on this machine


def require_ray():
    try:
        import ray
    except ImportError as exc:
        raise SystemExit("--ray needs Ray: pip install -r requirements-cluster.txt") from exc
    return ray


def connect(address: str | None, num_cpus: int | None = None):
    """ray.init once: `local` (or None) starts a Ray instance here; anything else is an address
    (`auto`, `HOST:6379`, `ray://HOST:10001`) of a running cluster (`ray start --head`)."""
    ray = require_ray()
    if not ray.is_initialized():
        env = {k: v for k, v in os.environ.items() if k.startswith("MSA_") or k == "GLOG_minloglevel"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        kwargs = dict(runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=False)
        # ray.init forks its processes with a Python preexec_fn: call it from a process that does not
        # run many threads yet (the test suite runs it in a fresh process: tests/test_ray.py)
        if address in (None, LOCAL):  # on the loopback interface only: nothing is exposed
            ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", **kwargs)
        else:
            ray.init(address=address, **kwargs)
    return ray


def gpus_per_task(ray, tasks: int) -> float:
    """One GPU per task where the cluster has them (a share when there are fewer GPUs than tasks)."""
    gpus = float(ray.cluster_resources().get("GPU", 0))
    return 0.0 if gpus <= 0 else min(1.0, gpus / max(tasks, 1))
