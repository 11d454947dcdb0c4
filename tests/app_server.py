"""Start `python app.py` on 127.0.0.1 on a free port, wait until it serves, stop it at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_app(workdir: Path, env: dict[str, str] | None = None, timeout: float = 120.0):
    """Yields the URL; the log is `workdir / "app.log"` (its tail is in any failure message)."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(workdir / "gradio-tmp"),
               OMP_NUM_THREADS="1", **(env or {}))
    log = workdir / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"app.py did not serve {url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()  # app.py shuts Gradio down cleanly on SIGTERM (its uploads are deleted then)
        try:
            proc.wait(timeout=60)  # a clean shutdown can take a while on 2 busy cores
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
