"""`python -m bench.mutants [--only NAME …] [--json]`: plant each known bug, one at a time, in a
throwaway copy of the repository, run the tests meant to catch it, and say whether they did.

The copy is a `git worktree` of HEAD (or `--commit`) under a temporary folder (this checkout is
never touched) and has no ../shared beside it, so only tests that run in CI without special data
count. For each mutant its test files first run on the unchanged copy (they must pass, or "caught"
would mean nothing), then the edit is made (it must apply exactly once, or the mutant is reported as
stale), the tests run again, and the files are restored. Exit status 1 unless every mutant is caught.

The bugs are the ones issue 14 planted by hand, plus two for the fixes made since (one resampler for
a stream whose format changes; frame-threaded decoding of a damaged video).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    path: str  # file to change, relative to the repository
    edits: tuple[tuple[str, str], ...]  # (old, new): each old text must occur exactly once; () = junk bytes
    tests: tuple[str, ...]
    also: tuple[str, ...] = ()  # more files overwritten with junk (the same mutant)


MUTANTS = [
    Mutant("unimodal-index", "analysis.py: the unimodal fallback reads value[j], not value[1 << j]",
           "msa_demo/analysis.py", (("result[m] = value[1 << j]", "result[m] = value[j]"),),
           ("tests/test_explanation_properties.py",)),
    Mutant("no-audio-lead", "audio lead padding removed: late audio slides to t = 0",
           "msa_demo/audio_track.py", (("        if lead > 0:  # audio starts", "        if lead < 0:  # audio starts"),),
           ("tests/test_media_clock.py", "tests/test_media_damage.py")),
    Mutant("junk-checkpoints", "checkpoints/midg.* and late_fusion.* replaced with junk",
           "checkpoints/midg.safetensors", (), ("tests/test_shipped_checkpoints.py",),
           also=("checkpoints/midg.json", "checkpoints/late_fusion.safetensors", "checkpoints/late_fusion.json")),
    Mutant("resample-2pct", "resampling to 16.32 kHz instead of 16 kHz",
           "msa_demo/audio_track.py", (('layout="mono", rate=self.rate)', 'layout="mono", rate=int(self.rate * 1.02))'),),
           ("tests/test_media_clock.py", "tests/test_media.py")),
    Mutant("banzhaf", "shapley.py: Banzhaf weights 1/2^(n-1) instead of Shapley's",
           "msa_demo/explain/shapley.py",
           (("weight = factorial(size) * factorial(N - size - 1) / factorial(N)", "weight = 1 / 2 ** (N - 1)"),),
           ("tests/test_explanation_properties.py",)),
    Mutant("present-ignored", "batch.py: `present` ignored (every modality always on)",
           "msa_demo/models/batch.py",
           (("return self.mask(m) & self.present[:, MODALITIES.index(m), None]", "return self.mask(m)"),),
           ("tests/test_explanation_properties.py",)),
    Mutant("one-resampler", "one resampler for the whole audio stream (the fuzzer's crash, back)",
           "msa_demo/audio_track.py", (("            if key != self._format:", "            if self._format is None:"),),
           ("tests/test_media_damage.py",)),
    Mutant("threaded-damage", "a damaged video kept frame-threaded (a new score on every run)",
           "msa_demo/media.py", (("                    if frame.is_corrupt:\n                        if threaded:",
                                  "                    if frame.is_corrupt:\n                        if False:"),
                                 ('if packet.stream.type == "video" and threaded:', "if False:")),
           ("tests/test_media_damage.py",)),
]


def pytest(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, str]:
    """("pass" | "fail" | "timeout", the summary line) for `tests` in `copy`, as CI without ../shared."""
    env = dict(os.environ, MSA_SHARED=str(copy / "no-shared"), OMP_NUM_THREADS="1", CI="false")
    env.pop("MSA_FACE_MODEL", None)
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
                              cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"over {timeout:.0f} s"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else done.stderr[-200:]
    return ("pass" if done.returncode == 0 else "fail"), summary


def plant(copy: Path, mutant: Mutant) -> dict[Path, bytes] | None:
    """Make the edit; the original bytes of every file changed (None: the edit no longer applies)."""
    target = copy / mutant.path
    original = {target: target.read_bytes()}
    if not mutant.edits:
        for name in (mutant.path, *mutant.also):
            original[copy / name] = (copy / name).read_bytes()
            (copy / name).write_bytes(b"\x00junk\xff" * 64)
        return original
    text = original[target].decode()
    for old, new in mutant.edits:
        if text.count(old) != 1:
            return None
        text = text.replace(old, new)
    target.write_text(text)
    return original


def run(names: list[str] | None = None, timeout: float = 900.0, progress=print, commit: str = "HEAD") -> list[dict]:
    chosen = [m for m in MUTANTS if not names or m.name in names]
    rows = []
    with tempfile.TemporaryDirectory(prefix="msa-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(copy), commit], cwd=ROOT, check=True)
        try:
            baselines: dict[tuple[str, ...], tuple[str, str]] = {}
            for mutant in chosen:
                start = time.perf_counter()
                if mutant.tests not in baselines:  # the same tests on the unchanged copy must pass
                    baselines[mutant.tests] = pytest(copy, mutant.tests, timeout)
                    progress(f"unchanged {' '.join(mutant.tests)}: {baselines[mutant.tests]}")
                status, summary = baselines[mutant.tests]
                original = plant(copy, mutant) if status == "pass" else None
                if status != "pass":
                    row = {"mutant": mutant.name, "what": mutant.what,
                           "result": "tests fail without the bug", "summary": summary}
                elif original is None:
                    row = {"mutant": mutant.name, "what": mutant.what, "result": "stale (edit does not apply)"}
                else:
                    try:
                        status, summary = pytest(copy, mutant.tests, timeout)
                    finally:
                        for path, data in original.items():
                            path.write_bytes(data)
                    row = {"mutant": mutant.name, "what": mutant.what,
                           "result": {"fail": "caught", "pass": "NOT CAUGHT", "timeout": "timeout"}[status],
                           "summary": summary}
                row.update(tests=" ".join(Path(t).name for t in mutant.tests),
                           seconds=round(time.perf_counter() - start, 1))
                progress(f"{row['mutant']}: {row['result']} ({row.get('summary', '')})")
                rows.append(row)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(copy)], cwd=ROOT, check=False)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| planted bug | tests run (CI, no ../shared) | result |", "|---|---|---|"]
    for r in rows:
        result = r["result"] + (f": {r['summary']}" if r.get("summary") else "")
        lines.append(f"| {r['what']} | {r['tests']} | {result} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutants", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help=f"mutant names: {[m.name for m in MUTANTS]}")
    parser.add_argument("--commit", default="HEAD", help="the commit to copy (default HEAD)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = run(args.only, progress=lambda line: print(line, file=sys.stderr, flush=True), commit=args.commit)
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0 if all(r["result"] == "caught" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
