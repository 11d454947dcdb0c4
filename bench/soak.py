"""`python -m bench.soak --minutes 60 [--interval 4] [--out reports/soak] [--json]`

A long run against a served app: `python app.py` on a free 127.0.0.1 port gets one `/analyze`
request every `--interval` seconds (open loop: the schedule does not wait for answers, as visitors do
not) for `--minutes`, cycling through a fixed mix (bench/soak_mix.py): typed text, clips with a typed
transcript and with Whisper, an audio file, a still, a damaged clip that must still be analysed, and
files that must be refused. Every answer is checked (soak_mix.check). Every 10 s the server's
resident memory, open file descriptors and threads are read from /proc.

The report: requests sent and answered, failures (each with its reason), p50/p95/max latency overall
and per kind, and memory over time: after warm-up (one request of each kind), at the end, the peak,
and the slope of a line fitted to the second half (MiB per hour; a leak shows as a steady slope).
`--out P` writes P.json and a plot P.png (memory, descriptors and latencies against time).
tests/test_soak.py runs a 2-minute version. Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from .server import rss_mb, served_app
from .soak_mix import SHARED, SoakRequest, check, request_mix

SAMPLE_EVERY = 10.0  # seconds between /proc samples
FACE_MODEL = SHARED / "models" / "face_landmarker.task"


def proc_sample(pid: int) -> dict:
    """The server's RSS (MiB), open descriptors and threads, now."""
    status = Path(f"/proc/{pid}/status").read_text()
    threads = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:"))
    load = float(Path("/proc/loadavg").read_text().split()[0])  # the machine's, for context
    return {"rss_mb": round(rss_mb(pid), 1), "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": threads,
            "load1": load}


def soak(url: str, pid: int, mix: list[SoakRequest], minutes: float, interval: float,
         request_timeout: float = 180.0, progress=None, trained: bool = True,
         end_by: float | None = None) -> dict:
    """Drive `url` for `minutes` (sending stops at the wall-clock time `end_by` if that comes first);
    every answer checked, /proc sampled. The raw record."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    references: dict[SoakRequest, dict] = {}
    for request in mix:  # warm-up: each kind once, alone; the answers are the references
        outcome, value = _call(client, request)
        problem = check(request, outcome, value, None, trained)
        if problem:
            raise RuntimeError(f"warm-up request {request.label} failed: {problem}")
        if outcome == "result":
            references[request] = value
    start = time.monotonic()
    samples = [{"t": 0.0, **proc_sample(pid)}]
    lock = threading.Lock()
    records: list[dict] = []
    pending: list[tuple[dict, SoakRequest, object]] = []
    seconds = minutes * 60 if end_by is None else min(minutes * 60, max(0.0, end_by - time.time()))
    end, next_at, next_sample, i = start + seconds, start, start + SAMPLE_EVERY, 0
    while time.monotonic() < end or pending:
        now = time.monotonic()
        if now < end and now >= next_at:
            request = mix[i % len(mix)]
            record = {"i": i, "kind": request.label, "t": round(now - start, 2)}

            def finished(*_, record=record):
                with lock:
                    record.setdefault("latency", round(time.monotonic() - start - record["t"], 3))
            job = client.submit(*request.args(), api_name="/analyze")
            job.add_done_callback(finished)  # (result_callbacks would log a traceback for each refusal)
            pending.append((record, request, job))
            i += 1
            next_at += interval
        for item in list(pending):
            record, request, job = item
            age = time.monotonic() - start - record["t"]
            if not job.done() and age < request_timeout:
                continue
            pending.remove(item)
            if not job.done():
                job.cancel()
                record.update(outcome="timeout", problem=f"no answer in {request_timeout:.0f} s")
            else:
                outcome, value = _outcome(job)
                with lock:
                    record.setdefault("latency", round(age, 3))
                record["outcome"] = outcome
                record["problem"] = check(request, outcome, value, references.get(request), trained)
            records.append(record)
            if progress:
                progress(record)
        if now >= next_sample:
            samples.append({"t": round(now - start, 1), **proc_sample(pid)})
            next_sample += SAMPLE_EVERY
        time.sleep(0.05)
    samples.append({"t": round(time.monotonic() - start, 1), **proc_sample(pid)})
    client.close() if hasattr(client, "close") else None
    untrained = sorted({r["model"] for r in references.values() if not r.get("trained")})
    return {"records": sorted(records, key=lambda r: r["i"]), "samples": samples, "untrained_models": untrained,
            "minutes_sent": round(seconds / 60, 1)}


def _call(client, request: SoakRequest):
    try:
        return "result", client.predict(*request.args(), api_name="/analyze")
    except Exception as exc:  # an error answer: for a bad file, the expected one
        return "error", str(exc)


def _outcome(job):
    try:
        return "result", job.result(timeout=0)
    except Exception as exc:
        return "error", str(exc)


def summarise(raw: dict, minutes: float, interval: float) -> dict:
    records, samples = raw["records"], raw["samples"]
    failures = [r for r in records if r.get("problem")]
    latencies = sorted(r["latency"] for r in records if "latency" in r and not r.get("problem"))
    kinds = sorted({r["kind"] for r in records})
    half = [s for s in samples if s["t"] >= samples[-1]["t"] / 2]
    return {
        "minutes": minutes, "interval_s": interval, "requests": len(records),
        "ok": len(records) - len(failures), "failures": len(failures),
        "failure_reasons": [f"#{r['i']} {r['kind']} at {r['t']} s: {r['problem']}" for r in failures][:50],
        "latency_s": _percentiles(latencies),
        "latency_by_kind_s": {k: _percentiles(sorted(r["latency"] for r in records
                                                     if r["kind"] == k and "latency" in r)) for k in kinds},
        "requests_by_kind": {k: sum(r["kind"] == k for r in records) for k in kinds},
        "rss_mb": {"after_warm_up": samples[0]["rss_mb"], "end": samples[-1]["rss_mb"],
                   "max": max(s["rss_mb"] for s in samples),
                   "slope_second_half_mb_per_h": _slope(half, "rss_mb")},
        "fds": {"after_warm_up": samples[0]["fds"], "end": samples[-1]["fds"], "max": max(s["fds"] for s in samples)},
        "threads": {"after_warm_up": samples[0]["threads"], "end": samples[-1]["threads"],
                    "max": max(s["threads"] for s in samples)},
        "machine_load1": {"mean": round(statistics.fmean(s["load1"] for s in samples), 2),
                          "max": max(s["load1"] for s in samples), "cpus": os.cpu_count()},
    }


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]  # noqa: E731 (nearest rank)
    return {"n": len(values), "p50": round(statistics.median(values), 3), "p95": round(pick(0.95), 3),
            "max": round(values[-1], 3)}


def _slope(samples: list[dict], key: str) -> float | None:
    """Least-squares slope of `key` against time, per hour."""
    if len(samples) < 3:
        return None
    t = [s["t"] / 3600 for s in samples]
    y = [s[key] for s in samples]
    mt, my = statistics.fmean(t), statistics.fmean(y)
    var = sum((a - mt) ** 2 for a in t)
    return round(sum((a - mt) * (b - my) for a, b in zip(t, y)) / var, 1) if var else None


def run(minutes: float, interval: float, env: dict[str, str] | None = None, shared: bool = True,
        progress=None, trained: bool = True, request_timeout: float = 180.0, end_by: float | None = None) -> dict:
    """Start the app, warm it up, soak it; the summary plus the raw record."""
    import tempfile

    env = {"MSA_OFFLINE": os.environ.get("MSA_OFFLINE", "1"), "GLOG_minloglevel": "2", **(env or {})}
    if "MSA_FACE_MODEL" not in os.environ and FACE_MODEL.is_file():
        env.setdefault("MSA_FACE_MODEL", str(FACE_MODEL))
    with tempfile.TemporaryDirectory(prefix="msa-soak-") as tmp:
        mix = request_mix(Path(tmp), shared=shared)
        # a generous start: on a busy machine (the soak itself runs niced) loading can take minutes
        with served_app(env, timeout=900, log=Path(tmp) / "app.log", stop_timeout=60) as (url, proc, startup):
            raw = soak(url, proc.pid, mix, minutes, interval, request_timeout, progress=progress, trained=trained,
                       end_by=end_by)
        tracebacks = log_tracebacks((Path(tmp) / "app.log").read_text())
    report = summarise(raw, raw["minutes_sent"], interval)
    report.update(startup_seconds=round(startup, 1), mix=[r.label for r in mix],
                  untrained_models=raw["untrained_models"],
                  server_tracebacks=len(tracebacks), server_errors=sorted(set(tracebacks))[:10])
    return {**report, "raw": raw}


def log_tracebacks(log: str) -> list[str]:
    """The exception line ending each traceback in the server's log."""
    found, lines = [], log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = next((lines[j] for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()), "?")
            found.append(end[:200])
    return found


def render(report: dict) -> str:
    lat, rss, fds = report["latency_s"], report["rss_mb"], report["fds"]
    lines = [f"{report['minutes']} min soak, a request every {report['interval_s']} s: {report['requests']} "
             f"requests, {report['ok']} ok, {report['failures']} failed",
             f"latency p50 {lat.get('p50')} s, p95 {lat.get('p95')} s, max {lat.get('max')} s",
             f"RSS MiB: {rss['after_warm_up']} after warm-up, {rss['end']} at the end, max {rss['max']}, "
             f"second-half slope {rss['slope_second_half_mb_per_h']} MiB/h",
             f"open fds: {fds['after_warm_up']} -> {fds['end']} (max {fds['max']}); threads "
             f"{report['threads']['after_warm_up']} -> {report['threads']['end']}",
             f"machine load (1-min average) mean {report['machine_load1']['mean']}, max "
             f"{report['machine_load1']['max']} on {report['machine_load1']['cpus']} CPUs"]
    if report.get("untrained_models"):
        lines.append(f"served with random weights (no usable checkpoint): {', '.join(report['untrained_models'])}")
    for kind, p in report["latency_by_kind_s"].items():
        lines.append(f"  {kind:22s} n={p.get('n')} p50 {p.get('p50')} s, p95 {p.get('p95')} s")
    lines += [f"  FAILED {reason}" for reason in report["failure_reasons"]]
    lines += [f"  server traceback: {e}" for e in report.get("server_errors", [])]
    return "\n".join(lines)


def _utc_today(hhmm: str) -> float:
    """The next time the UTC clock reads HH:MM, as a Unix time."""
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    hour, minute = (int(x) for x in hhmm.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (at if at > now else at + dt.timedelta(days=1)).timestamp()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between requests")
    parser.add_argument("--out", type=Path, default=None, help="write OUT.json and OUT.png")
    parser.add_argument("--no-shared", action="store_true", help="only media made here (as CI)")
    parser.add_argument("--request-timeout", type=float, default=180.0, help="seconds before a request counts as lost")
    parser.add_argument("--end-by", default=None, help="UTC HH:MM: stop sending then, even if --minutes is not up")
    parser.add_argument("--allow-untrained", action="store_true",
                        help="do not count random-weight answers as failures (checkpoints of another spec)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    env = {k: os.environ[k] for k in ("MSA_WHISPER_MODEL",) if k in os.environ}
    end_by = _utc_today(args.end_by) if args.end_by else None
    report = run(args.minutes, args.interval, env, shared=not args.no_shared, trained=not args.allow_untrained,
                 request_timeout=args.request_timeout, end_by=end_by,
                 progress=lambda r: r.get("problem") and print(f"FAILED {r}", file=sys.stderr, flush=True))
    report["command"] = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
        from .soak_plot import plot

        plot(report, args.out.with_suffix(".png"))
    print(json.dumps({k: v for k, v in report.items() if k != "raw"}, indent=1) if args.json else render(report))
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
