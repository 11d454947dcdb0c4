"""What the soak sends, and how each answer is checked.

The mix, one of each in turn: typed text (each model in turn), a clip with its transcript typed, a
clip left to Whisper, an audio file, a still, a clip damaged mid-stream (must be analysed, with a
notice), and two files that must be refused with "Cannot use this input" (text named .mp4, an mp4
cut in half). Clips are the MOSI clips from ../shared when present, else media made here
(bench/fuzz_seeds.py), so the same mix runs in CI.

An answer is right when: a result has the Shapley sum (baseline + contributions == score), the
model asked for, the transcript typed, a finite score, trained weights (no "untrained" notice) and,
for typed input, the same score as the same request gave alone during warm-up (one visitor's
requests never change another's answers); a refusal carries the one-line message and no traceback.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from .fuzz_seeds import seed_files

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
TEXTS = ["what a lovely film", "I hated every minute of it", "it was fine I guess", "the acting felt great"]
MODELS = ["midg", "late_fusion", "early_fusion", "derl", "misr", "mmmie"]


@dataclass(frozen=True)
class SoakRequest:
    label: str  # the kind, for the report
    path: str | None
    text: str
    model: str
    expect: str = "result"  # or "refused"

    def args(self):
        from gradio_client import handle_file

        return (handle_file(self.path) if self.path else None, self.text, self.model)


def request_mix(folder: Path, shared: bool = True) -> list[SoakRequest]:
    """One cycle of the mix (files written to `folder`)."""
    made = {p.suffix: p for p in seed_files(folder / "media", shared=False)}
    clips = sorted((SHARED / "media" / "mosi_clips").glob("*.mp4")) if shared else []
    damaged = SHARED / "media" / "fuzz" / "audio_format_change.mp4"
    clip = str(clips[0] if clips else made[".mp4"])
    long_clip = str(max(clips, key=lambda p: p.stat().st_size) if clips else made[".webm"])
    bad_text = folder / "notes.mp4"
    bad_text.write_text("this is not a video\n" * 50)
    data = made[".mp4"].read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: nothing left to read
    if not damaged.is_file():  # the middle quarter overwritten: opens, some packets do not decode
        damaged = folder / "garbled.mp4"
        n = len(data)
        damaged.write_bytes(data[: n // 4] + bytes((i * 151 + 7) % 256 for i in range(n // 2 - n // 4)) + data[n // 2:])
    mix = [SoakRequest(f"text/{m}", None, TEXTS[i % len(TEXTS)], m) for i, m in enumerate(MODELS)]
    mix += [
        SoakRequest("clip+typed", long_clip, "i mean it was not bad at all", "midg"),
        SoakRequest("clip+whisper", clip, "", "late_fusion"),
        SoakRequest("audio+typed", str(made[".wav"]), "it was fine", "derl"),
        SoakRequest("still+typed", str(made[".png"]), "what a lovely film", "mmmie"),
        SoakRequest("damaged+typed", str(damaged), "it was fine", "misr"),
        SoakRequest("bad:text-as-mp4", str(bad_text), "", "midg", expect="refused"),
        SoakRequest("bad:truncated", str(cut), "", "midg", expect="refused"),
    ]
    return mix


def check(request: SoakRequest, outcome: str, value, reference: dict | None, trained: bool = True) -> str | None:
    """None when the answer is what this request should get, else what is wrong."""
    if request.expect == "refused":
        if outcome != "error":
            return "a file that cannot be used was analysed"
        if "Cannot use this input" not in value or "Traceback" in value:
            return f"refusal without the clear message: {value[:200]!r}"
        return None
    if outcome != "result":
        return f"error: {str(value)[:200]}"
    score = value.get("score")
    if not isinstance(score, float) or not math.isfinite(score):
        return f"score {score!r}"
    if value.get("model") != request.model:
        return f"model {value.get('model')!r} != {request.model!r}"
    if not math.isclose(value["baseline"] + sum(value["contributions"].values()), score, abs_tol=1e-9):
        return "baseline + contributions != score"
    if request.text and value.get("transcript") != request.text:
        return f"transcript {value.get('transcript')!r} != {request.text!r}"
    if trained and (not value.get("trained", False) or any("untrained" in n for n in value.get("notices", []))):
        return "the model runs with random weights"
    if request.text and reference is not None and not math.isclose(score, reference["score"], abs_tol=1e-5):
        return f"score {score} != {reference['score']} when sent alone"
    return None
