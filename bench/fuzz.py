"""`python -m bench.fuzz [--count 2000] [--seed 0] [--timeout 30] [--json] [--out reports/fuzz.json]`

A seeded media fuzzer: mutants of real clips and of every other kind of file the app takes
(bench/fuzz_seeds.py; mutations: bench/fuzz_mutations.py) go one by one through the whole analysis
in a worker process (bench/fuzz_worker.py). Each mutant ends as one of:

- `result`  — analysed (maybe partly, with notices); the answer is checked
- `refused` — a MediaError: one line a visitor understands
- `error`   — any other exception: a bug (its type, message and line are recorded)
- `hang`    — no answer after `--timeout` seconds of the worker's CPU time, or ten times that spent
  neither running nor waiting for a CPU (so a deadlock is caught, and a worker starved by a busy
  machine is not called hung): the worker is killed and restarted
- `crash`   — the worker died (a segfault in FFmpeg, MediaPipe, …): what would have taken a server
  down with every visitor's session, had the analysis run in the server's own process

Mutant i of seed s is the same on every machine (its own `random.Random(f"{s}:{i}")`), so a finding
is reproduced with `--seed s --only i`; mutants that end in error, hang or crash are kept under
`--keep` (default: a temporary folder, printed). tests/test_fuzz.py runs 60 of them;
MSA_FUZZ_COUNT=2000 runs more there too. Exit status 1 if any mutant ended in error, hang or crash.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .fuzz_mutations import mutate
from .fuzz_seeds import SHARED, seed_files

ROOT = Path(__file__).resolve().parents[1]
TYPED = "it was not bad at all"  # Whisper is not the target (and too slow for thousands of mutants)
BAD = ("error", "hang", "crash")
LOAD_TIMEOUT = 120.0  # CPU seconds for the worker's first load (text encoder, face model, numba kernels)


class Worker:
    """The analysis in a child process; `ask` never raises for what the child does."""

    def __init__(self, env: dict[str, str] | None = None, log: Path | None = None):
        self.env = dict(os.environ, OMP_NUM_THREADS="1", MSA_OFFLINE=os.environ.get("MSA_OFFLINE", "1"),
                        GLOG_minloglevel="2", **(env or {}))
        face = SHARED / "models" / "face_landmarker.task"
        if "MSA_FACE_MODEL" not in self.env and face.is_file():
            self.env["MSA_FACE_MODEL"] = str(face)
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self, load: bool = True, max_seconds: float | None = None) -> None:
        err = open(self.log, "a") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.fuzz_worker"], cwd=ROOT, env=self.env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        if load:
            answer = self.ask({"op": "load", "max_seconds": max_seconds}, LOAD_TIMEOUT)
            if answer["outcome"] != "loaded":
                raise RuntimeError(f"the fuzz worker did not start: {answer}")

    def ask(self, job: dict, timeout: float) -> dict:
        proc = self.proc
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died()
        start, cpu_start = time.monotonic(), _cpu_seconds(proc.pid)
        waited, idle, last = _runqueue_wait(proc.pid), 0.0, start
        while True:  # a hang: `timeout` s of the worker's CPU time, or 10x that idle, without an answer
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                break
            now, queued = time.monotonic(), _runqueue_wait(proc.pid)
            idle += max(0.0, (now - last) - max(0.0, queued - waited))  # neither running nor starved
            waited, last = queued, now
            cpu = _cpu_seconds(proc.pid) - cpu_start
            if cpu > timeout or idle > 10 * timeout:
                self.stop()
                return {"outcome": "hang", "message": f"no answer after {cpu:.0f} s of CPU, {idle:.0f} s "
                        f"idle ({now - start:.0f} s in all)", "seconds": round(now - start, 1)}
        line = proc.stdout.readline()
        if not line:
            return self._died()
        return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:  # the pipe to a dead child
                    pass
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _died(self) -> dict:
        code = self.proc.wait()
        self.stop()
        how = f"killed by signal {-code}" if code < 0 else f"exited with {code}"
        return {"outcome": "crash", "message": f"worker {how}", "returncode": code, "seconds": 0.0}


def _cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user + system), so a busy machine does not look like a hang."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it has just exited: the caller reads its pipe next
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _runqueue_wait(pid: int) -> float:
    """Seconds the process's threads have spent ready to run but waiting for a CPU (schedstat): time
    a busy machine took from it, which is not the worker's hanging."""
    total = 0.0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):  # a thread that has just ended
            continue
    return total


def mutant(seed: int, i: int, files: list[Path], blobs: dict[Path, bytes]) -> tuple[Path, bytes, str]:
    """Mutant i of run `seed`: its source file, bytes and what was done (deterministic)."""
    source = files[i % len(files)]
    rng = random.Random(f"{seed}:{i}")
    donors = [blobs[f] for f in files if f != source]
    data, what = mutate(blobs[source], rng, donors)
    return source, data, what


def run(count: int = 60, seed: int = 0, timeout: float = 30.0, shared: bool = True,
        keep: Path | None = None, only: list[int] | None = None, max_seconds: float | None = None,
        progress=None, budget_minutes: float | None = None) -> dict:
    """Fuzz `count` mutants (or just those in `only`); the summary and every mutant's outcome.
    `budget_minutes`: stop early when that is spent (the report counts what was run)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="msa-fuzz-") as tmp:
        tmp = Path(tmp)
        files = seed_files(tmp / "seeds", shared=shared)
        blobs = {f: f.read_bytes() for f in files}
        keep = Path(keep) if keep else None
        worker = Worker(log=tmp / "worker.log")
        worker.start(max_seconds=max_seconds)
        rows = []
        try:
            for i in (only if only is not None else range(count)):
                if budget_minutes and time.perf_counter() - start > budget_minutes * 60:
                    break
                source, data, what = mutant(seed, i, files, blobs)
                path = tmp / f"mutant-{i:05d}{source.suffix}"
                path.write_bytes(data)
                answer = worker.ask({"path": str(path), "transcript": TYPED}, timeout)
                row = {"i": i, "seed_file": source.name, "mutation": what, "bytes": len(data), **answer}
                rows.append(row)
                if answer["outcome"] in BAD:
                    if keep:
                        keep.mkdir(parents=True, exist_ok=True)
                        shutil.copy(path, keep / path.name)
                    if not worker.alive():
                        worker.restarts += 1
                        worker.start(max_seconds=max_seconds)
                path.unlink()
                if progress:
                    progress(row)
        finally:
            worker.stop()
    return summarise(rows, seed, time.perf_counter() - start, worker.restarts, shared and bool(
        list((SHARED / "media" / "mosi_clips").glob("*.mp4"))))


def summarise(rows: list[dict], seed: int, seconds: float, restarts: int, with_shared: bool) -> dict:
    outcomes = collections.Counter(r["outcome"] for r in rows)
    by_file: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in rows:
        by_file[r["seed_file"]][r["outcome"]] += 1
    times = [r["seconds"] for r in rows if r["outcome"] in ("result", "refused")]
    rss = [r["rss_mb"] for r in rows if "rss_mb" in r]
    partial = sum(1 for r in rows if r["outcome"] == "result" and r.get("notices"))
    return {
        "mutants": len(rows), "seed": seed, "wall_seconds": round(seconds, 1), "shared_clips": with_shared,
        "outcomes": {k: outcomes.get(k, 0) for k in ("result", "refused", *BAD)},
        "results_with_notices": partial,
        "by_seed_file": {name: dict(c) for name, c in sorted(by_file.items())},
        "seconds_per_mutant": {"median": round(statistics.median(times), 3) if times else None,
                               "max": round(max(times), 3) if times else None},
        "worker_rss_mb": {"first": rss[0], "last": rss[-1], "max": max(rss)} if rss else None,
        "worker_restarts": restarts,
        "findings": [r for r in rows if r["outcome"] in BAD],
        "refusal_messages": dict(collections.Counter(
            _shape(r["message"]) for r in rows if r["outcome"] == "refused").most_common(8)),
    }


def _shape(message: str) -> str:
    """A refusal without its file name, so equal reasons count together."""
    return message.split(" ", 1)[1] if message.startswith("mutant-") else message


def render(report: dict) -> str:
    o = report["outcomes"]
    lines = [f"{report['mutants']} mutants (seed {report['seed']}, shared clips: "
             f"{'yes' if report['shared_clips'] else 'no'}) in {report['wall_seconds']} s: "
             f"{o['result']} results ({report['results_with_notices']} with notices), {o['refused']} refused, "
             f"{o['error']} errors, {o['hang']} hangs, {o['crash']} crashes",
             f"seconds per mutant: median {report['seconds_per_mutant']['median']}, "
             f"max {report['seconds_per_mutant']['max']}; worker RSS MiB {report['worker_rss_mb']}"]
    for name, counts in report["by_seed_file"].items():
        lines.append(f"  {name:24s} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for finding in report["findings"]:
        lines.append(f"  FINDING #{finding['i']} {finding['seed_file']} [{finding['mutation']}]: "
                     f"{finding['outcome']}: {finding['message']} {finding.get('where', '')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=int(os.environ.get("MSA_FUZZ_COUNT", 2000)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one mutant may take")
    parser.add_argument("--only", type=int, nargs="*", default=None, help="just these mutant numbers")
    parser.add_argument("--no-shared", action="store_true", help="only the seeds made here (as CI)")
    parser.add_argument("--keep", type=Path, default=None, help="folder for mutants that end badly")
    parser.add_argument("--budget-minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    keep = args.keep or Path(tempfile.mkdtemp(prefix="msa-fuzz-findings-"))
    done = collections.Counter()

    def progress(row):
        done[row["outcome"]] += 1
        if sum(done.values()) % 100 == 0 or row["outcome"] in BAD:
            print(f"[{sum(done.values())}] {dict(done)}", file=sys.stderr, flush=True)

    report = run(args.count, args.seed, args.timeout, not args.no_shared, keep, args.only, progress=progress,
                 budget_minutes=args.budget_minutes)
    report["command"] = "python -m bench.fuzz " + " ".join(argv if argv is not None else sys.argv[1:])
    report["kept"] = str(keep) if report["findings"] else None
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1) if args.json else render(report))
    return 1 if report["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
