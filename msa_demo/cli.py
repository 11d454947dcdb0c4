"""`python -m msa_demo features PATH [--transcript TEXT] [--json]`: the feature path, from a shell.
`python -m msa_demo analyze [PATH] [--transcript TEXT] [--model NAME] [--json]`: score + explanation
(the same JSON as the app's `/analyze` endpoint; PATH may be left out when --transcript is given).
`python -m msa_demo perturb PATH --kind KIND [--severities 30,10,0] [--model NAME] [--json]`: degrade
the media (or the transcript) at each severity, re-extract and score (the JSON of `/perturb`).
`python -m msa_demo assets [--whisper-model NAME]`: fetch and hash-check every model file into the
cache (Whisper, MiniLM, the face model), saying where each came from; exits 1 if one is missing.

Exits 0 whenever some modality could be read (what is off is in `notices`); exits 2 with a
one-line reason only when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import MediaError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m msa_demo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    features = commands.add_parser("features", help="extract text/audio/visual features from a file")
    features.add_argument("path", help="video, audio or image file")
    features.add_argument("--transcript", default=None, help="use this text instead of Whisper")
    features.add_argument("--json", action="store_true", help="print one JSON object")
    features.add_argument("--whisper-model", default=None, help="Whisper size (base, small…) or CTranslate2 model folder")
    features.add_argument("--max-seconds", type=float, default=None, help="analyse at most this much (default 60)")
    analyze = commands.add_parser("analyze", help="score one input and explain the score")
    analyze.add_argument("path", nargs="?", default=None, help="video, audio or image file (optional with --transcript)")
    analyze.add_argument("--transcript", default=None, help="use this text instead of Whisper")
    analyze.add_argument("--model", default=None, help="late_fusion, early_fusion, midg, derl, misr or mmmie "
                         "(default: the shipped checkpoint with the lowest validation loss)")
    analyze.add_argument("--checkpoints", default=None, help="folder of <model>.safetensors (default: the repo's checkpoints/)")
    analyze.add_argument("--json", action="store_true", help="print one JSON object")
    analyze.add_argument("--whisper-model", default=None, help="Whisper size (base, small…) or CTranslate2 model folder")
    analyze.add_argument("--max-seconds", type=float, default=None, help="analyse at most this much (default 60)")
    perturb = commands.add_parser("perturb", help="degrade the media over severities and score each")
    add = perturb.add_argument
    add("path", nargs="?", default=None, help="video, audio or image file (optional for asr_errors)")
    add("--kind", required=True, help="one of: " + ", ".join(_kinds()))
    add("--severities", default="", help="comma-separated, in the kind's unit (default: its own)")
    add("--transcript", default=None, help="use this text instead of Whisper")
    add("--model", default=None, help="default: the shipped checkpoint with the lowest validation loss")
    add("--seed", type=int, default=0, help="the noise, the room and the word errors (default 0)")
    add("--checkpoints", default=None, help="folder of <model>.safetensors (default: checkpoints/)")
    add("--json", action="store_true", help="print one JSON object")
    add("--whisper-model", default=None, help="Whisper size (base, small…) or CTranslate2 model folder")
    add("--max-seconds", type=float, default=None, help="analyse at most this much (default 60)")
    assets = commands.add_parser("assets", help="fetch and check every model file the app needs")
    assets.add_argument("--whisper-model", default=None, help="Whisper size or CTranslate2 folder (default base)")
    args = parser.parse_args(argv)
    if args.command == "assets":
        return _assets(args)
    if args.command == "analyze":
        if args.path is None and not (args.transcript or "").strip():
            parser.error("analyze needs a PATH, a --transcript, or both")
        return _analyze(args)
    if args.command == "perturb":
        if args.path is None and not (args.transcript or "").strip():
            parser.error("perturb needs a PATH, a --transcript, or both")
        return _perturb(args)
    return _features(args)


def _kinds() -> list[str]:
    from .perturb.kinds import KINDS

    return list(KINDS)


def _assets(args) -> int:
    from .assets import cache_dir
    from .asr import DEFAULT_WHISPER_MODEL
    from .fetch_assets import fetch_all

    print(f"cache: {cache_dir()}")
    reports = fetch_all(args.whisper_model or DEFAULT_WHISPER_MODEL)
    for report in reports:
        print(report.line())
    return 0 if all(r.path for r in reports) else 1


def _pipeline(args):
    from .pipeline import FeaturePipeline

    options = {}
    if args.whisper_model:
        options["whisper_model"] = args.whisper_model
    if args.max_seconds:
        options["max_seconds"] = args.max_seconds
    return FeaturePipeline(**options)


def _zoo_and_model(args):
    """(zoo, model name), or (None, None) after saying the model is unknown."""
    from pathlib import Path

    from .models import list_models
    from .zoo import ModelZoo

    zoo = ModelZoo(args.checkpoints or Path(__file__).resolve().parents[1] / "checkpoints")
    model = args.model or zoo.default_name()
    if model not in list_models():
        print(f"error: unknown model '{model}' (known: {', '.join(list_models())})", file=sys.stderr)
        return None, None
    return zoo, model


def _analyze(args) -> int:
    from .session import analyze_input

    zoo, model = _zoo_and_model(args)
    if zoo is None:
        return 2
    try:
        result = analyze_input(_pipeline(args), zoo, args.path, args.transcript, model)
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else _human_analysis(result))
    return 0


def _perturb(args) -> int:
    from .perturb.sweep import perturb_input

    zoo, model = _zoo_and_model(args)
    if zoo is None:
        return 2
    try:
        result = perturb_input(_pipeline(args), zoo, args.path, args.transcript, model, args.kind,
                               args.severities, seed=args.seed)
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else _human_perturbation(result))
    return 0


def _human_perturbation(r: dict) -> str:
    clean = r["clean"]
    lines = [f"{r['model']} under {r['label']} ({r['unit']}; {r['worse']} is worse); "
             f"clean score {clean['score']:+.3f}"]
    for p in r["points"]:
        parts = ", ".join(f"{m} {v:+.3f}" for m, v in p["contributions"].items())
        words = f"  “{p['transcript']}”" if r["modality"] != "visual" else ""
        lines.append(f"{p['severity']:>8g}: score {p['score']:+.3f} ({parts}){words}")
    return "\n".join(lines)


def _human_analysis(r: dict) -> str:
    lines = [f"{r['model']}: score {r['score']:+.3f} ({r['polarity']}), baseline {r['baseline']:+.3f}",
             "contributions: " + ", ".join(f"{m} {v:+.3f}" for m, v in r["contributions"].items()),
             "subsets: " + ", ".join(f"{k} {v:+.2f}" for k, v in r["subsets"].items()),
             f"transcript: {r['transcript'] or '(none)'}"]
    arousal = [f"{name} {a['label']} (P(high) {a['high']:.2f})" for name, a in (r.get("arousal") or {}).items() if a]
    if arousal:
        lines.append("arousal (how strongly, not part of the score): " + ", ".join(arousal))
    return "\n".join(lines + [f"notice: {n}" for n in r["notices"]])


def _features(args) -> int:
    pipeline = _pipeline(args)
    try:
        bundle = pipeline.extract(args.path, transcript=args.transcript)
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = bundle.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        print(_human(summary))
    return 0


def _human(summary: dict) -> str:
    lines = [f"transcript ({summary['transcript_source']}, {summary['language'] or '-'}): "
             f"{summary['transcript'] or '(none)'}"]
    for m in ("text", "audio", "visual"):
        info = summary[m]
        extra = ""
        if m == "audio":
            extra = f"  voiced {info['voiced_fraction']:.0%}"
        if m == "visual":
            extra = f"  face {info['face_fraction']:.0%}"
        state = "on " if info["present"] else "off"
        lines.append(f"{m:<7} {state} shape {tuple(info['shape'])}{extra}")
    lines.append("timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in summary["timings"].items()))
    lines.append(f"duration {summary['duration']:.2f}s, feature spec {summary['feature_spec']}")
    lines += [f"notice: {n}" for n in summary["notices"]]
    return "\n".join(lines)
