"""The seeded media fuzzer (bench/fuzz.py) in the normal run: 60 mutants of the shared clips (when
../shared is there) and of a WAV, an MP3, a PNG, an MP4 and a WebM made here, each through the whole
analysis in a worker process. Every mutant must end as a checked result or a one-line refusal,
within the time limit, and the worker must survive them all.

MSA_FUZZ_COUNT=2000 (and MSA_FUZZ_SEED) run a longer or different campaign with the same test;
`python -m bench.fuzz --count 2000` does the same with a report. The fuzzer's own harness is tested
too: a worker that segfaults or stops answering must be reported as a crash or a hang, not missed.
"""

from __future__ import annotations

import os
import random
import re

import pytest
from bench.fuzz import Worker, mutant, run
from bench.fuzz_mutations import OPERATORS, mutate

COUNT = int(os.environ.get("MSA_FUZZ_COUNT", 60))
SEED = int(os.environ.get("MSA_FUZZ_SEED", 0))
TIMEOUT = 60.0  # CPU seconds per mutant (a 12 s clip takes ~4 s)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return run(COUNT, seed=SEED, timeout=TIMEOUT, keep=tmp_path_factory.mktemp("fuzz-findings"))


@pytest.mark.slow
def test_every_mutant_is_a_result_or_a_clear_refusal(campaign):
    findings = "\n".join(f"#{f['i']} {f['seed_file']} [{f['mutation']}]: {f['outcome']} {f['message']} "
                         f"{f.get('where', '')}" for f in campaign["findings"])
    assert campaign["outcomes"]["error"] == 0, findings
    assert campaign["outcomes"]["hang"] == 0, findings
    assert campaign["outcomes"]["crash"] == 0 and campaign["worker_restarts"] == 0, findings
    assert campaign["mutants"] == COUNT


@pytest.mark.slow
def test_the_mutants_exercise_both_outcomes(campaign):
    """A fuzzer whose mutants all decode (too gentle) or all fail (too rough) tests little."""
    outcomes = campaign["outcomes"]
    assert outcomes["result"] >= COUNT // 5, outcomes
    assert outcomes["refused"] >= COUNT // 10, outcomes
    assert campaign["results_with_notices"] > 0  # damage that is survived is also said


@pytest.mark.slow
def test_refusals_are_one_line_without_a_server_path(campaign):
    for message in campaign["refusal_messages"]:
        assert "\n" not in message and "/tmp" not in message and "Traceback" not in message, message


def test_mutants_are_reproducible_and_varied(tmp_path):
    files = [tmp_path / "a.wav", tmp_path / "b.mp4"]
    blobs = {files[0]: bytes(range(256)) * 40, files[1]: bytes(reversed(range(256))) * 40}
    first = [mutant(7, i, files, blobs) for i in range(40)]
    again = [mutant(7, i, files, blobs) for i in range(40)]
    assert first == again
    assert len({data for _, data, _ in first}) == 40  # 40 different files
    kinds = {re.match(r"truncate|flip-header|flip-body|zero|dup|int32|splice", step).group()
             for _, _, what in first for step in what.split()}
    assert len(kinds) >= 6, kinds
    assert mutate(b"", random.Random(0)) == (b"", "unchanged")
    for operator in OPERATORS:  # each operator changes the bytes (or the length)
        data = bytes(range(256)) * 40
        assert operator(data, random.Random(3))[0] != data, operator.__name__


def test_the_harness_reports_a_crash_and_both_kinds_of_hang():
    worker = Worker()
    worker.start(load=False)
    try:
        crashed = worker.ask({"op": "probe", "what": "crash"}, timeout=60)
        assert crashed["outcome"] == "crash" and crashed["returncode"] == -11, crashed
        assert not worker.alive()
        for what in ("spin", "hang"):  # 0.5 s of CPU; asleep: 10 x 0.5 s of wall time
            worker.start(load=False)
            hung = worker.ask({"op": "probe", "what": what}, timeout=0.5)
            assert hung["outcome"] == "hang" and not worker.alive(), (what, hung)
    finally:
        worker.stop()
