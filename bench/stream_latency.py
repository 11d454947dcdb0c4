"""`python -m bench.stream_latency [CLIP …] [--chunk S] [--update-every S] [--json]`

Word spoken -> rolling score that includes it, for the Stream tab's engine (msa_demo/streaming):
each clip is played into it in real time (48 kHz audio chunks of `--chunk` s, as the page's
microphone stream sends them, and its frames as the webcam's), each chunk followed by the poll the
page makes (`StreamEngine.poll`: updates run in the background as they fall due), on the app's
models and extractors. A word's latency is the time from the moment its last sample was played to
the poll that handed out the first update whose score read it (the page shows it then);
word times are Whisper's on the whole clip (the reference). Also: to the update that committed it
(LocalAgreement), each update's compute time, and the final analysis after stop (each clip is
followed by silence until an update has read all of it, as a speaker pausing). Not included: the
browser's encoding and the network (local: milliseconds), and drawing the page.
Default clips: ../shared/media/mosi_clips/*.mp4; targets: median <= 1 s, p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from msa_demo.machine import cpu_name
from msa_demo.runtime import apply_server_settings

apply_server_settings()  # before torch loads: time what app.py runs

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSA_SHARED", ROOT.parent / "shared"))
DEFAULT_CLIPS = SHARED / "media" / "mosi_clips"
FACE_MODEL = SHARED / "models" / "face_landmarker.task"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_latency",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help=f"media files (default: {DEFAULT_CLIPS}/*.mp4)")
    parser.add_argument("--chunk", type=float, default=0.1, help="seconds per microphone chunk (the page's)")
    parser.add_argument("--update-every", type=float, default=None, help="StreamConfig.update_every")
    parser.add_argument("--media-every", type=float, default=None, help="StreamConfig.media_every")
    parser.add_argument("--foreground-media", action="store_true", help="read voice and face in the update")
    parser.add_argument("--model", default=None, help="model name (default: the app's default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    _environment()

    from msa_demo.media import load_media
    from msa_demo.pipeline import FeaturePipeline
    from msa_demo.streaming import StreamConfig, StreamEngine, StreamState
    from msa_demo.zoo import ModelZoo

    from .stream_feed import play, latencies

    paths = [Path(p) for p in args.paths] or sorted(DEFAULT_CLIPS.glob("*.mp4"))
    pipeline = FeaturePipeline()
    if pipeline.asr.unavailable_reason():
        print(f"Whisper unavailable: {pipeline.asr.unavailable_reason()}", file=sys.stderr)
        return 2
    pipeline.warm_up()
    zoo = ModelZoo(ROOT / "checkpoints")
    model = args.model or zoo.default_name()
    config = StreamConfig()
    changes = {"update_every": args.update_every, "media_every": args.media_every}
    config = replace(config, **{k: v for k, v in changes.items() if v is not None},
                     background_media=not args.foreground_media)
    engine, state = StreamEngine(pipeline, zoo), StreamState(config)
    load = [os.getloadavg()[0]]
    clips = [(p, load_media(p)) for p in paths]
    first = clips[0][1]  # warm-up: its first 2 s, untimed
    play(engine, state, replace(first, frames=first.frames[:20], frame_times=first.frame_times[:20],
                                audio=first.audio[:32_000]), model, args.chunk, tail=3.0)
    report = {"cpu": cpu_name(), "cores": os.cpu_count(), "model": model, "trained": zoo.trained(model),
              "chunk_seconds": args.chunk, "config": config.__dict__, "clips": {}}
    scored, committed, computes = [], [], []
    for path, clip in clips:
        reference = pipeline.asr.transcribe(clip.audio).transcript.words
        played = play(engine, state, clip, model, args.chunk)
        found = latencies(reference, played)
        scored += found["scored"]
        committed += found["committed"]
        compute = [sum(u.seconds.values()) for u in played.updates]
        computes += compute
        report["clips"][path.name] = {
            "seconds": round(clip.duration, 2), "words": len(reference), "updates": len(played.updates),
            "scored": _stats(found["scored"]), "committed": _stats(found["committed"]),
            "missed": found["missed"],
            "update_seconds": _stats(compute), "final_seconds": round(played.final_seconds, 2),
            "final_score": round(played.final["score"], 3), "transcript": " ".join(
                w.text for w in played.updates[-1].committed + played.updates[-1].tentative)
            if played.updates else ""}
        load.append(os.getloadavg()[0])
    report.update(scored=_stats(scored), committed=_stats(committed), update_seconds=_stats(computes),
                  load_average=[round(x, 2) for x in load])
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print(report)
    return 0


def _stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(values), "median": round(statistics.median(values), 3), "p95": round(p95, 3),
            "max": round(ordered[-1], 3)}


def _print(report: dict) -> None:
    print(f"{report['cpu']} ({report['cores']} cores), model {report['model']}"
          f"{'' if report['trained'] else ' (untrained)'}, chunks {report['chunk_seconds']} s, "
          f"load average {report['load_average']}")
    for name, clip in report["clips"].items():
        print(f"  {name} ({clip['seconds']} s, {clip['words']} words, {clip['updates']} updates): "
              f"scored {clip['scored']}, committed {clip['committed']}, update {clip['update_seconds']}, "
              f"final {clip['final_seconds']} s, missed {clip['missed']}")
    print(f"word spoken -> score containing it: {report['scored']}")
    print(f"word spoken -> committed:           {report['committed']}")
    print(f"rolling update compute:             {report['update_seconds']}")


def _environment() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("MSA_OFFLINE", "1")  # never download during a benchmark
    if "MSA_FACE_MODEL" not in os.environ and FACE_MODEL.is_file():
        os.environ["MSA_FACE_MODEL"] = str(FACE_MODEL)


if __name__ == "__main__":
    raise SystemExit(main())
