"""`python -m bench.wer [--model NAME|FOLDER]`: Whisper's word error rate on the shared MOSI clips.

Reference: `labels.csv`'s transcripts. Both sides are lower-cased with punctuation and apostrophes
dropped (CMU-MOSI's transcripts are upper case without either); WER = (substitutions + deletions + insertions) /
reference words, summed over the clips. Prints each clip's hypothesis, its errors and ASR seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
CLIPS = SHARED / "media" / "mosi_clips"


def normalise(text: str) -> list[str]:
    """Lower case, punctuation dropped, apostrophes too ("I'm" -> "im", as CMU-MOSI writes it)."""
    return re.sub(r"[^\w ]+", " ", text.lower().replace("'", "").replace("-", " ")).split()


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words (substitution, deletion, insertion each cost 1)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def reference_transcripts(folder: Path = CLIPS) -> dict[Path, str]:
    with open(folder / "labels.csv", newline="") as fh:
        return {folder / row["file"]: row["text"] for row in csv.DictReader(fh)}


def measure(asr, references: dict[Path, str]) -> dict:
    from msa_demo.media import load_media

    clips, errors, words = [], 0, 0
    for path, reference in sorted(references.items()):
        audio = load_media(path).audio
        start = time.perf_counter()
        result = asr.transcribe(audio)
        seconds = time.perf_counter() - start
        hypothesis = result.transcript.text if result.transcript else ""
        ref = normalise(reference)
        e = word_errors(ref, normalise(hypothesis))
        errors, words = errors + e, words + len(ref)
        clips.append({"clip": path.name, "reference": " ".join(ref), "hypothesis": hypothesis, "errors": e,
                      "words": len(ref), "language": result.transcript.language if result.transcript else None,
                      "asr_seconds": round(seconds, 3), "notice": result.notice})
    return {"wer": round(errors / max(words, 1), 4), "errors": errors, "words": words, "clips": clips}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wer", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="Whisper size or CTranslate2 folder (default: MSA_WHISPER_MODEL or base)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from msa_demo.asr import DEFAULT_WHISPER_MODEL, WhisperASR

    if not CLIPS.is_dir():
        print(f"{CLIPS} is absent", file=sys.stderr)
        return 2
    asr = WhisperASR(args.model or DEFAULT_WHISPER_MODEL)
    if asr.unavailable_reason():
        print(f"Whisper unavailable: {asr.unavailable_reason()}", file=sys.stderr)
        return 2
    report = {"model": asr.model_name, "weights": asr.origin, "compute_type": asr.compute_type,
              **measure(asr, reference_transcripts())}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for c in report["clips"]:
            print(f"{c['clip']}: {c['errors']}/{c['words']} errors, {c['asr_seconds']:.2f} s  | {c['hypothesis']}")
        print(f"WER {report['wer']:.1%} ({report['errors']} errors in {report['words']} words), "
              f"Whisper {report['model']} {report['compute_type']} from {report['weights']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
