"""Extraction and sweeps on Ray give what one machine gives: a local 2-CPU Ray instance on 127.0.0.1
extracts a RAVDESS subset and trains one run; both are compared with the one-machine results.

Run by tests/test_ray.py in a fresh pytest process (not collected by name): `ray.init` forks its
helpers with a Python preexec_fn, which can deadlock in a process that already runs many threads.
"""

import faulthandler
import json

import numpy as np
import pytest

from conftest import SHARED, needs_face_model, needs_shared

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-cluster.txt)")

pytestmark = [needs_shared, needs_face_model]


@pytest.fixture(scope="module")
def local_ray(whisper_base):
    from training.ray_cluster import LOCAL, connect

    faulthandler.dump_traceback_later(600, exit=True)  # bounded: a hung cluster fails the run, not CI
    connect(LOCAL, num_cpus=2)
    assert ray.cluster_resources().get("CPU") == 2
    yield ray
    ray.shutdown()
    faulthandler.cancel_dump_traceback_later()


def test_ray_extraction_equals_one_machine_item_for_item_and_resumes(local_ray, pipeline, whisper_base, tmp_path):
    from msa_demo.corpora import open_corpus
    from msa_demo.corpora.cache import FeatureCache
    from training.extract import extract_corpus

    reader = open_corpus("ravdess", SHARED)
    here = extract_corpus(reader, tmp_path / "here", limit=4, shard_size=2, pipeline=pipeline, progress=False)
    there = extract_corpus(reader, tmp_path / "ray", workers=2, limit=4, shard_size=2, progress=False,
                           whisper_model=whisper_base, ray_address="local")
    assert there["extraction_runs"][-1]["ray"] == "local"
    assert here["feature_spec_id"] == there["feature_spec_id"] and here["items"] == there["items"] == 4
    a, b = FeatureCache(tmp_path / "here"), FeatureCache(tmp_path / "ray")
    assert a.ids() == b.ids()
    for item_id in a.ids():
        x, y = a.get(item_id), b.get(item_id)
        assert {k: v for k, v in x.row.items()} == {k: v for k, v in y.row.items()}
        for m, fx in x.features.items():
            fy = y.features[m]
            assert fx.present == fy.present
            np.testing.assert_array_equal(fx.mask, fy.mask)
            np.testing.assert_array_equal(fx.times, fy.times)
            # the same extractors; only torch's thread count differs, so the last bits may
            np.testing.assert_allclose(fx.values, fy.values, atol=1e-4)

    shards = sorted((tmp_path / "ray" / "shards").glob("*.safetensors"))
    stamps = [p.stat().st_mtime_ns for p in shards]
    again = extract_corpus(reader, tmp_path / "ray", workers=2, limit=4, shard_size=2, progress=False,
                           whisper_model=whisper_base, ray_address="local")
    assert again["extraction_runs"][-1]["items_skipped_as_done"] == 4  # resumable as on one machine
    assert [p.stat().st_mtime_ns for p in shards] == stamps


def test_a_sweep_run_on_ray_writes_the_checkpoint_a_local_run_writes(local_ray, tmp_path):
    from safetensors.numpy import load_file

    from synthetic_cache import write_caches
    from training.ray_sweep import sweep_on_ray
    from training.sweep import run_one

    caches = write_caches(tmp_path / "cache", n_per_split=12)
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"corpora": ["mosi", "ravdess", "fer2013"], "max_epochs": 1,
                                  "samples_per_epoch": 64, "composites": 32, "valid_composites": 12}))
    extra = ["--cache-root", str(caches), "--config", str(config)]
    local = run_one("late_fusion", 1111, tmp_path / "local", extra)
    assert local["status"] == "ok"
    results = sweep_on_ray([("late_fusion", 1111), ("no_such_model", 1111)], tmp_path / "ray", extra, 2, "local")
    status = {r["model"]: r["status"] for r in results}
    assert status["late_fusion"] == "ok"
    assert status["no_such_model"].startswith("failed")  # reported, not fatal to the other run
    assert (tmp_path / "ray" / "no_such_model" / "seed1111.log").read_bytes()
    mine = load_file(str(tmp_path / "local" / "late_fusion" / "seed1111.safetensors"))
    theirs = load_file(str(tmp_path / "ray" / "late_fusion" / "seed1111.safetensors"))
    assert mine.keys() == theirs.keys()
    for key in mine:
        np.testing.assert_array_equal(mine[key], theirs[key])
    again = sweep_on_ray([("late_fusion", 1111)], tmp_path / "ray", extra, 2, "local")
    assert again[0]["status"] == "exists"
