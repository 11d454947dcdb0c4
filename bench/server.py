"""`python app.py` on a free 127.0.0.1 port, as a context manager: (url, process, seconds to first 200).
Used by the warm-start timing (bench.latency) and the load test (bench.load, tests/test_load.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(env: dict[str, str] | None = None, timeout: float = 120.0, log: Path | None = None,
               command: list[str] | None = None, temp_dir: Path | None = None,
               stop_timeout: float | None = None):
    """Launch app.py (or `command`), wait for HTTP 200 on `/`, yield (url, Popen, startup seconds).

    GRADIO_TEMP_DIR is `temp_dir`, else a temporary folder removed afterwards. At the end the app is
    killed, or, given `stop_timeout`, stopped with SIGTERM (app.py then shuts down cleanly and deletes
    its uploads) and killed only if it has not exited after that many seconds."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="msa-app-") as tmp:
        full_env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                        GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(temp_dir or tmp), **(env or {}))
        out = open(log, "w") if log else subprocess.DEVNULL
        start = time.perf_counter()
        proc = subprocess.Popen(command or [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
        tail = lambda: f"\n{log.read_text()[-3000:]}" if log else ""  # noqa: E731 (for error messages)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"app.py exited with {proc.returncode} before serving{tail()}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.perf_counter() - start > timeout:
                        raise RuntimeError(f"app.py did not serve {url} in {timeout:.0f} s{tail()}") from None
                    time.sleep(0.05)
            yield url, proc, time.perf_counter() - start
        finally:
            if stop_timeout is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=stop_timeout)
                except subprocess.TimeoutExpired:
                    pass
            proc.kill()
            proc.wait()
            if log:
                out.close()


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB, from /proc (Linux; no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
