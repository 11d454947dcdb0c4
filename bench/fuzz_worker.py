"""`python -m bench.fuzz_worker`: the child process the fuzzer feeds mutants to, one JSON job a line.

It runs each file through `analyze_input` (media -> features -> model -> explanation, as `/analyze`
does) and answers one JSON line: `result` (checked: a finite score, baseline + contributions ==
score), `refused` (a MediaError: the message a visitor would see), or `error` (anything else: a bug).
A crash or a hang cannot answer at all; the parent sees that from outside (bench/fuzz.py), which is
why the analysis runs here and not in the fuzzer's own process.

Replies go to the original stdout; fd 1 is pointed at stderr so that whatever a native library
prints cannot garble them. `{"op": "probe", "what": "crash"|"spin"|"hang"}` makes the worker die by
SIGSEGV, loop forever, or sleep forever: the fuzzer's own tests use it to show that each is caught.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Analyzer:
    def __init__(self, max_seconds: float | None = None):
        import torch

        from msa_demo.pipeline import FeaturePipeline
        from msa_demo.zoo import ModelZoo

        torch.set_num_threads(1)  # one mutant at a time; the machine has other work
        self.pipeline = FeaturePipeline(**({"max_seconds": max_seconds} if max_seconds else {}))
        self.pipeline.warm_up(asr=False)
        self.zoo = ModelZoo(ROOT / "checkpoints")

    def run(self, job: dict) -> dict:
        from msa_demo.errors import MediaError
        from msa_demo.session import analyze_input

        start = time.perf_counter()
        try:
            result = analyze_input(self.pipeline, self.zoo, job["path"], job.get("transcript", ""),
                                   job.get("model", "late_fusion"))
        except MediaError as exc:
            return {"outcome": "refused", "message": str(exc), "seconds": _since(start)}
        except Exception as exc:  # noqa: BLE001 - the point: any other exception is a finding
            last = traceback.extract_tb(exc.__traceback__)[-1]
            return {"outcome": "error", "message": f"{type(exc).__name__}: {exc}"[:300],
                    "where": f"{Path(last.filename).name}:{last.lineno}", "seconds": _since(start)}
        problem = _check(result)
        return {"outcome": "error" if problem else "result", "message": problem or "",
                "available": [m for m, on in result["available"].items() if on],
                "notices": result["notices"], "seconds": _since(start)}


def _check(result: dict) -> str | None:
    """None for a well-formed analysis, else what is wrong with it."""
    score = result.get("score")
    if not isinstance(score, float) or not math.isfinite(score):
        return f"score {score!r} is not a finite number"
    total = result["baseline"] + sum(result["contributions"].values())
    if not math.isclose(total, score, abs_tol=1e-6):
        return f"baseline + contributions {total} != score {score}"
    if not isinstance(result.get("notices"), list):
        return "notices is not a list"
    return None


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)


def main() -> int:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    analyzer = None
    for line in sys.stdin:
        job = json.loads(line)
        if job.get("op") == "probe":
            if job["what"] == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            while job["what"] == "spin":  # a hang that burns CPU (an endless decode loop)
                pass
            time.sleep(3600)  # one that does not (a deadlock)
        if job.get("op") == "load":
            analyzer = analyzer or Analyzer(job.get("max_seconds"))
            replies.write(json.dumps({"outcome": "loaded"}) + "\n")
            continue
        analyzer = analyzer or Analyzer()
        answer = analyzer.run(job)
        answer["rss_mb"] = _rss_mb()
        replies.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
