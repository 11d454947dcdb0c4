"""`python -m msa_demo features`: JSON shape, exit codes, one-line reasons."""

import json
import os
import subprocess
import sys

from conftest import ROOT, needs_face_model
from msa_demo.cli import main
from msa_demo.features.spec import AUDIO_DIM, VISUAL_DIM


@needs_face_model
def test_json_on_a_real_clip(mosi_clips, whisper_base, capsys):
    assert main(["features", str(mosi_clips[2]), "--json", "--whisper-model", whisper_base]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"]["shape"][1] == 384 and out["audio"]["shape"][1] == AUDIO_DIM
    assert out["visual"]["shape"][1] == VISUAL_DIM and out["visual"]["face_fraction"] >= 0.9
    assert 0.0 < out["audio"]["voiced_fraction"] <= 1.0
    assert out["transcript"] == "I mean that was impressive." and out["language"] == "en"
    assert set(out["timings"]) >= {"decode", "asr", "visual", "audio", "text"}
    assert out["notices"] == []


def test_typed_transcript_and_no_face(generated, capsys):
    assert main(["features", str(generated["noise_with_tone"]), "--transcript", "so good", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["transcript"] == "so good" and out["transcript_source"] == "user"
    assert out["visual"]["face_fraction"] == 0.0 and out["text"]["shape"] == [4, 384]


def test_video_without_audio_is_not_an_error(generated, capsys):
    assert main(["features", str(generated["no_audio"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["audio"]["shape"][0] == 0 and any("no audio track" in n for n in out["notices"])


def test_human_output(generated, capsys):
    assert main(["features", str(generated["tone"]), "--transcript", "hmm"]) == 0
    text = capsys.readouterr().out
    assert "audio   on" in text and "visual  off" in text and "timings:" in text


def test_unusable_input_exits_non_zero_with_one_line(generated):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("empty", "text_as_mp4", "unsupported"):
        run = subprocess.run([sys.executable, "-m", "msa_demo", "features", str(generated[name]), "--json"],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert run.returncode == 2, name
        assert run.stdout == ""
        reason = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        assert len(reason) == 1
        assert generated[name].name in reason[0] or generated[name].suffix in reason[0]


def test_perturb_typed_text_json_and_a_bad_kind(capsys):
    """`python -m msa_demo perturb`: the /perturb JSON; an unknown kind exits 2 with one line."""
    args = ["perturb", "--transcript", "i loved this film", "--kind", "asr_errors", "--severities", "0, 1"]
    assert main(args + ["--json", "--model", "late_fusion"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "asr_errors" and [p["severity"] for p in out["points"]] == [0.0, 1.0]
    assert out["points"][0]["transcript"] == "i loved this film" != out["points"][1]["transcript"]
    assert main(["perturb", "--transcript", "hello", "--kind", "hail"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown perturbation") and "\n" not in err
