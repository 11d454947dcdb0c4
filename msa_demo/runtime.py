"""Process settings for the server, applied by app.py before anything starts a thread.

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


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (Linux only; a no-op elsewhere). True if applied."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return False
