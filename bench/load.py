"""`python -m bench.load [--requests 20] [--kind text|clip|mixed] [--concurrency N] [--json]`

Starts `python app.py` on a free 127.0.0.1 port, sends `--requests` `/analyze` calls through
gradio_client all at once (one client, every job submitted before any is awaited), and checks each
answer: no error, the model asked for, the transcript typed, the Shapley sum (baseline + the three
contributions == score), and the same score as the same request sent alone beforehand. It reports the
wall time, per-request latencies, and the server's resident memory (VmRSS from /proc) at baseline
(after one request of each kind), after the burst, and after a second burst (growth = a leak).

`--concurrency` sets MSA_EXTRACT_CONCURRENCY for the server (how many requests read media at once);
the default is the app's own setting. tests/test_load.py runs a small, text-and-short-clip version.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .server import rss_mb, served_app

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
FACE_MODEL = SHARED / "models" / "face_landmarker.task"
TEXTS = ["what a lovely film", "I hated every minute of it", "it was fine I guess",
         "the acting felt great", "boring and far too long"]
MODELS = ["midg", "late_fusion", "early_fusion", "derl", "misr", "mmmie"]


@dataclass(frozen=True)
class Request:
    path: str | None
    text: str
    model: str

    def args(self):
        from gradio_client import handle_file

        return (handle_file(self.path) if self.path else None, self.text, self.model)


def requests_for(n: int, clips: list[str], kind: str, typed: bool = False) -> list[Request]:
    """n requests cycling through texts and models; `clip`/`mixed` send media (mixed: every 4th),
    with a typed transcript when `typed` (Whisper skipped), else transcribed."""
    out = []
    for i in range(n):
        with_media = clips and (kind == "clip" or (kind == "mixed" and i % 4 == 0))
        path = clips[i % len(clips)] if with_media else None
        text = "" if path and not typed else TEXTS[i % len(TEXTS)]
        out.append(Request(path, text, MODELS[i % len(MODELS)]))
    return out


def check(request: Request, result: dict, reference: dict | None) -> str | None:
    """None if the answer is right, else what is wrong."""
    if result.get("model") != request.model:
        return f"model {result.get('model')!r} != {request.model!r}"
    total = result["baseline"] + sum(result["contributions"].values())
    if not math.isclose(total, result["score"], abs_tol=1e-9):
        return f"Shapley sum {total} != score {result['score']}"
    if request.text and result["transcript"] != request.text:
        return f"transcript {result['transcript']!r} != {request.text!r}"
    if reference is not None and not math.isclose(result["score"], reference["score"], abs_tol=1e-5):
        return f"score {result['score']} != {reference['score']} when sent alone"
    return None


def burst(client, requests: list[Request], references: dict, timeout: float) -> dict:
    """Submit every request, then wait for all; per-request latency from submit to result."""
    done: dict[int, float] = {}
    lock = threading.Lock()
    start = time.perf_counter()
    jobs = []
    for i, request in enumerate(requests):
        def finished(*_, i=i):
            with lock:
                done.setdefault(i, time.perf_counter() - start)
        jobs.append(client.submit(*request.args(), api_name="/analyze", result_callbacks=[finished]))
    errors, latencies = [], []
    for i, (request, job) in enumerate(zip(requests, jobs)):
        remaining = max(0.1, timeout - (time.perf_counter() - start))
        try:
            result = job.result(timeout=remaining)
        except Exception as exc:  # an error answer, or the time bound
            errors.append(f"{request}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        with lock:
            latencies.append(done.setdefault(i, time.perf_counter() - start))
        problem = check(request, result, references.get(request))
        if problem:
            errors.append(f"{request}: {problem}")
    wall = time.perf_counter() - start
    return {"requests": len(requests), "ok": len(requests) - len(errors), "errors": errors,
            "wall_seconds": round(wall, 3),
            "latency_median": round(statistics.median(latencies), 3) if latencies else None,
            "latency_max": round(max(latencies), 3) if latencies else None,
            "throughput_per_s": round(len(latencies) / wall, 3) if wall else None}


def run(n: int = 20, kind: str = "mixed", clips: list[str] | None = None, concurrency: int | None = None,
        env: dict[str, str] | None = None, timeout: float = 300.0, bursts: int = 2,
        typed: bool = False) -> dict:
    from gradio_client import Client

    env = dict(env or {})
    env.setdefault("GLOG_minloglevel", "2")
    if concurrency:
        env["MSA_EXTRACT_CONCURRENCY"] = str(concurrency)
    if "MSA_FACE_MODEL" not in os.environ and FACE_MODEL.is_file():
        env.setdefault("MSA_FACE_MODEL", str(FACE_MODEL))
    clips = list(clips or [])
    requests = requests_for(n, clips, kind, typed)
    with served_app(env) as (url, proc, startup):
        client = Client(url, verbose=False)
        references = {}
        for request in dict.fromkeys(requests):  # each distinct request once, alone: warm + reference
            references[request] = client.predict(*request.args(), api_name="/analyze")
        baseline = rss_mb(proc.pid)
        results = []
        after = []
        for _ in range(bursts):
            results.append(burst(client, requests, references, timeout))
            time.sleep(1.0)  # let the queue's workers finish their bookkeeping
            after.append(rss_mb(proc.pid))
        client.close() if hasattr(client, "close") else None
    return {
        "requests": n, "kind": kind, "clips": [Path(c).name for c in clips],
        "extract_concurrency": concurrency or "app default", "startup_seconds": round(startup, 2),
        "bursts": results,
        "rss_mb": {"baseline": round(baseline, 1), "after_each_burst": [round(a, 1) for a in after]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--kind", choices=["text", "clip", "mixed"], default="mixed")
    parser.add_argument("--clips", nargs="*", default=None,
                        help="media for clip requests (default: ../shared/media/mosi_clips/*.mp4)")
    parser.add_argument("--concurrency", type=int, default=None, help="MSA_EXTRACT_CONCURRENCY for the server")
    parser.add_argument("--whisper", default=None, help="MSA_WHISPER_MODEL for the server (default base)")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound on one burst, seconds")
    parser.add_argument("--bursts", type=int, default=2, help="identical bursts (memory growth between them = a leak)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    clips = args.clips if args.clips is not None else sorted(str(p) for p in (SHARED / "media" / "mosi_clips").glob("*.mp4"))
    env = {"MSA_OFFLINE": os.environ.get("MSA_OFFLINE", "1")}
    whisper = args.whisper or os.environ.get("MSA_WHISPER_MODEL")
    if whisper:
        env["MSA_WHISPER_MODEL"] = whisper
    report = run(args.requests, args.kind, clips, args.concurrency, env, args.timeout, args.bursts)
    report["whisper"] = whisper or "base"
    print(json.dumps(report, indent=2) if args.json else _render(report))
    return 0 if all(not b["errors"] for b in report["bursts"]) else 1


def _render(report: dict) -> str:
    lines = [f"{report['requests']} concurrent /analyze requests ({report['kind']}), extract concurrency "
             f"{report['extract_concurrency']}, server up in {report['startup_seconds']} s"]
    for i, b in enumerate(report["bursts"], 1):
        lines.append(f"burst {i}: {b['ok']}/{b['requests']} ok in {b['wall_seconds']} s, latency median "
                     f"{b['latency_median']} s, max {b['latency_max']} s, {b['throughput_per_s']}/s")
        lines += [f"  ERROR {e}" for e in b["errors"]]
    rss = report["rss_mb"]
    lines.append(f"RSS MiB: baseline {rss['baseline']}, after each burst {rss['after_each_burst']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
