"""The Ray checks (tests/ray_cases.py) in their own, fresh pytest process.

`ray.init` starts its processes by fork with a Python `preexec_fn`; in the full suite's process,
which by then runs the app server, torch, onnxruntime and Whisper threads, a finalizer in the forked
child waited forever on a lock held at fork time (seen twice). A fresh process has none of that.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-cluster.txt)")

CASES = Path(__file__).with_name("ray_cases.py")


def test_ray_extraction_and_sweep_equal_one_machine():
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CASES)],
                         cwd=CASES.parents[1], capture_output=True, text=True, timeout=900)
    tail = (run.stdout + run.stderr)[-4000:]
    assert run.returncode == 0, tail
    assert "2 passed" in run.stdout, tail
