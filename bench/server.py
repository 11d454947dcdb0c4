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
               command: list[str] | None = None):
    """Launch app.py (or `command`), wait for HTTP 200 on `/`, yield (url, Popen, startup seconds); kill it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory(prefix="msa-app-") as tmp:
        full_env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                        GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=tmp, **(env or {}))
        out = open(log, "w") if log else subprocess.DEVNULL
        start = time.perf_counter()
        proc = subprocess.Popen(command or [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    tail = log.read_text()[-3000:] if log else ""
                    raise RuntimeError(f"app.py exited with {proc.returncode} before serving\n{tail}")
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.perf_counter() - start > timeout:
                        raise RuntimeError(f"app.py did not serve {url} in {timeout:.0f} s") from None
                    time.sleep(0.05)
            yield url, proc, time.perf_counter() - start
        finally:
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
