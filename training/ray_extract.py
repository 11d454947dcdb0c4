"""`training.extract --ray [ADDRESS]`: the same shards as on one machine, extracted by Ray actors.

Each actor builds one FeaturePipeline (init_worker, as a local worker process does) and extracts a
whole shard at a time (extract_items); the driver writes each shard as it comes back, so the cache
is the one-machine cache item for item, and resumable the same way (finished shards are skipped
before anything is scheduled). An item that cannot be decoded is kept with its media off, as
locally; a worker that dies costs its shard (reported, left for the next run), never the run.
"""

from __future__ import annotations

import os
from pathlib import Path

from msa_demo.corpora.cache import shard_name, write_shard

from .ray_cluster import connect, gpus_per_task


def extract_on_ray(todo: list, out: Path, job: dict, workers: int, whisper_model: str | None, bar,
                   address: str | None) -> int:
    """Extract the shards `todo` ([(number, items)]) with `workers` actors; returns failed items."""
    ray = connect(address, num_cpus=None)
    workers = max(1, workers)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // workers)
    actor_class = ray.remote(num_cpus=cpus, num_gpus=gpus_per_task(ray, workers))(ShardExtractor)
    def spawn():
        return actor_class.remote(whisper_model, cpus)

    actors = [spawn() for _ in range(min(workers, len(todo)))]
    try:
        return _drain(ray, actors, spawn, list(todo), job, out, bar)
    finally:  # free their CPUs (and GPUs) for whatever the cluster runs next
        for actor in actors:
            ray.kill(actor)


def _drain(ray, actors: list, spawn, queue: list, job: dict, out: Path, bar) -> int:
    """Keep every actor busy with one shard until all are done; write each shard as it returns (a
    dead actor is replaced by `spawn()`)."""
    running, failed = {}, 0
    for actor in actors:
        _submit(queue, running, actor, job)
    while running:
        done, _ = ray.wait(list(running), num_returns=1)
        ref = done[0]
        actor, (k, items) = running.pop(ref)
        try:
            rows, features, item_failures = ray.get(ref)
        except Exception as exc:  # a worker crash or a bug on the node: this shard only
            print(f"shard {k} ({len(items)} items) failed on the cluster: {type(exc).__name__}: "
                  f"{str(exc).splitlines()[0] if str(exc) else ''} — rerun to retry it", flush=True)
            failed += len(items)
            if isinstance(exc, ray.exceptions.RayActorError):
                actors.remove(actor)
                actor = spawn()
                actors.append(actor)
        else:
            write_shard(out / shard_name(k), rows, features, job["dims"], job["spec_id"], job["corpus"])
            failed += item_failures
        bar.update(len(items))
        _submit(queue, running, actor, job)
    return failed


def _submit(queue: list, running: dict, actor, job: dict) -> None:
    if queue:
        k, items = queue.pop(0)
        running[actor.shard.remote(items, job)] = (actor, (k, items))


class ShardExtractor:
    """One Ray actor: a loaded pipeline, reused for every shard it is given."""

    def __init__(self, whisper_model: str | None, threads: int):
        from .extract_item import init_worker

        os.environ.setdefault("GLOG_minloglevel", "2")
        init_worker(whisper_model, None, threads)

    def shard(self, items: list, job: dict):
        from .extract_item import extract_items

        return extract_items(items, job)
