"""Start `python app.py` on 127.0.0.1 on a free port, wait until it serves, stop it at the end."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from bench.server import served_app


@contextmanager
def running_app(workdir: Path, env: dict[str, str] | None = None, timeout: float = 120.0):
    """Yields the URL; the log is `workdir / "app.log"` (its tail is in any failure message), Gradio's
    cache (GRADIO_TEMP_DIR) `workdir / "gradio-tmp"`. Stopped with SIGTERM (a clean shutdown: app.py
    deletes its uploads then), killed only if it has not exited 60 s later (2 busy cores)."""
    with served_app({"OMP_NUM_THREADS": "1", **(env or {})}, timeout, log=workdir / "app.log",
                    temp_dir=workdir / "gradio-tmp", stop_timeout=60) as (url, _, _):
        yield url
