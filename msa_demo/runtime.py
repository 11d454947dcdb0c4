"""Process settings for the server, applied by app.py before anything starts a thread or imports
torch (`apply_server_settings`; bench/ applies them too, so that it times what the app runs).

OpenMP: torch's CPU kernels run on libgomp threads, which after each parallel operation spin
~300,000 iterations waiting for more work. Whisper, MediaPipe, librosa and PyAV share the two cores
during an analysis, and that spinning took cycles from them: a 12.3 s clip took 4.5-5.1 s (8.1-9.0
CPU-s). Spinning 10,000 iterations: 3.7 s (6.3-6.4 CPU-s); not spinning at all (OMP_WAIT_POLICY=
PASSIVE) was as fast but doubled the re-scoring after a toggle (0.07 -> 0.13 s), whose small models
run many short parallel operations (`python -m bench.latency`, reports/latency.md).
GOMP_SPINCOUNT or OMP_WAIT_POLICY in the environment, when set, win.

glibc gives every thread that allocates under contention its own malloc arena (up to 8 per core)
and keeps freed memory in it. Gradio answers each request on a worker thread, so a burst of
concurrent requests left the server ~200 MB larger, and a few bursts later it was still wandering
(20 concurrent /analyze, 5 of them with audio: +97, +165, +145, +163, +209, +177 MB over baseline).
With two arenas it settled: +30, +58, +73, +73, +73 MB (`python -m bench.load`, reports/latency.md),
and the time per burst was within noise. MALLOC_ARENA_MAX in the environment, when set, wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2
OPENMP_SPIN = "10000"


def apply_server_settings() -> None:
    """Everything below; call first thing, before torch is imported."""
    limit_openmp_spin()
    limit_malloc_arenas()


def limit_openmp_spin(spin: str = OPENMP_SPIN) -> bool:
    """Shorten libgomp's busy-wait (read when torch loads OpenMP). True if applied."""
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return False
    os.environ["GOMP_SPINCOUNT"] = spin
    return True


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (Linux only; a no-op elsewhere). True if applied."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return False
