"""Process settings (msa_demo/runtime.py): applied before torch loads, never over the operator's."""

import os
import subprocess
import sys

from msa_demo import runtime

PROBE = ("from msa_demo.runtime import apply_server_settings; apply_server_settings(); import os, torch; "
         "print(os.environ.get('GOMP_SPINCOUNT'))")


def _spin_in_fresh_process(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True,
                         text=True, check=True, timeout=120)
    return out.stdout.strip()


def test_openmp_spin_is_shortened_before_torch_loads():
    assert _spin_in_fresh_process() == runtime.OPENMP_SPIN


def test_operator_settings_win():
    assert _spin_in_fresh_process(GOMP_SPINCOUNT="5") == "5"
    assert _spin_in_fresh_process(OMP_WAIT_POLICY="ACTIVE") == "None"


def test_too_late_once_torch_is_loaded():
    import torch  # noqa: F401  (loaded: OpenMP has read its settings)

    assert runtime.limit_openmp_spin() is False
