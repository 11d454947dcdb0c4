"""Perturb the media, re-extract, score: one kind of degradation over a range of severities.

Only the degraded modality is read again, from the degraded media, through the app's own pipeline:
a noisy voice is transcribed again by Whisper (unless the transcript was typed) and its voice
features re-read; a blurred face goes through MediaPipe again; ASR-like errors re-embed the words.
The other modalities keep their clean features, so a change in the score is that one degradation's.
The media is decoded once; every severity uses the same seed, so only the severity changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from ..errors import PerturbationError
from ..session import Extracted, explain, extract_input, with_transcript
from .kinds import Kind, get_kind, parse_severities
from .video import dropped, face_boxes

Progress = Callable[[float, str], None]


def perturbed_inputs(pipeline, clean: Extracted, kind_name: str, severities=None, seed: int = 0,
                     progress: Progress | None = None) -> tuple[Kind, list[float], list[Extracted]]:
    """(kind, severities, one re-extracted input per severity). PerturbationError when the kind
    cannot apply to this input (no video for a face perturbation, no transcript for word errors)."""
    kind = get_kind(kind_name)
    values = parse_severities(kind, severities)
    report = progress or (lambda fraction, desc: None)
    if kind.modality == "text":
        if not clean.transcript:
            raise PerturbationError("this input has no transcript: word errors need words")
        return kind, values, [with_transcript(pipeline, clean, kind.apply(clean.transcript, s, seed))
                              for s in values]
    if not clean.media_path:
        raise PerturbationError(f"{kind.label} degrades the media: give a video or audio file "
                                "(this input is text)")
    media = pipeline.decode(clean.media_path)
    if kind.modality == "audio" and not media.has_audio:
        raise PerturbationError(f"{kind.label} degrades the voice, and this input has no audio")
    if kind.modality == "visual" and not media.has_video:
        raise PerturbationError(f"{kind.label} degrades the face, and this input has no picture")
    boxes = None
    if kind.name.startswith("occlude"):
        report(0.0, "finding the face")
        face = pipeline.face_featurizer()
        if face is None:
            raise PerturbationError("the face model is unavailable, so the face cannot be found to cover")
        boxes = face_boxes(face, media.frames, media.frame_times)
    out = []
    for i, severity in enumerate(values):
        report(i / len(values), f"{kind.label}: {severity:g} ({kind.unit}), {i + 1} of {len(values)}")
        if kind.modality == "audio":
            out.append(_audio_variant(pipeline, clean, media, kind, severity, seed))
        else:
            out.append(_visual_variant(pipeline, clean, media, kind, severity, seed, boxes))
    report(1.0, "done")
    return kind, values, out


def _audio_variant(pipeline, clean: Extracted, media, kind: Kind, severity: float, seed: int) -> Extracted:
    """The voice degraded; the transcript heard again by Whisper (unless typed); the face kept."""
    clip = replace(media, audio=kind.apply(media.audio, severity, seed), frames=media.frames[:0],
                   frame_times=media.frame_times[:0], notices=[])
    bundle = pipeline.extract(None, transcript=clean.transcript if clean.typed else None, clip=clip)
    spoken = bundle.transcript
    features = {"text": bundle.text, "audio": bundle.audio, "visual": clean.features["visual"]}
    return replace(clean, features=features, transcript=getattr(spoken, "text", "") or "",
                   words=list(getattr(spoken, "words", []) or []), notices=list(bundle.notices))


def _visual_variant(pipeline, clean: Extracted, media, kind: Kind, severity: float, seed: int,
                    boxes) -> Extracted:
    """The face degraded and read again by MediaPipe; words and voice kept."""
    if kind.name == "drop_frames":
        keep = dropped(len(media.frames), severity, seed)
        frames, times = media.frames[keep], media.frame_times[keep]
    else:
        frames, times = kind.apply(media.frames, severity, seed, boxes), media.frame_times
    clip = replace(media, frames=frames, frame_times=times, audio=media.audio[:0], notices=[])
    bundle = pipeline.extract(None, clip=clip)
    visual_notices = [n for n in bundle.notices if "face" in n.lower()]
    return replace(clean, features={**clean.features, "visual": bundle.visual}, keyframe=bundle.keyframe,
                   landmarks=bundle.keyframe_landmarks, notices=visual_notices)


def sweep_result(kind: Kind, severities: Sequence[float], inputs: Sequence[Extracted], zoo, model_name: str,
                 clean: Extracted | None = None) -> dict:
    """The JSON of `/perturb`: {"kind", "model", "unit", "worse", "clean", "points": [{"severity",
    "score", "baseline", "contributions", "transcript"}]} (baseline + contributions = score)."""
    def point(extracted: Extracted) -> dict:
        r = explain(extracted, zoo, model_name)
        return {"score": r["score"], "baseline": r["baseline"], "contributions": r["contributions"],
                "transcript": extracted.transcript}

    return {
        "kind": kind.name, "label": kind.label, "modality": kind.modality, "unit": kind.unit,
        "worse": kind.worse, "model": model_name,
        "clean": point(clean) if clean is not None else None,
        "points": [{"severity": float(s), **point(x)} for s, x in zip(severities, inputs)],
    }


def perturb_input(pipeline, zoo, path: str | None, transcript: str | None, model_name: str, kind_name: str,
                  severities=None, seed: int = 0, progress: Progress | None = None) -> dict:
    """media and/or transcript -> the perturbation sweep JSON (the `/perturb` endpoint and the CLI)."""
    report = progress or (lambda fraction, desc: None)
    get_kind(kind_name)  # an unknown kind is refused before anything is read
    clean = extract_input(pipeline, path, transcript, progress=lambda f, d: report(0.2 * f, d))
    kind, values, inputs = perturbed_inputs(pipeline, clean, kind_name, severities, seed,
                                            progress=lambda f, d: report(0.2 + 0.8 * f, d))
    return sweep_result(kind, values, inputs, zoo, model_name, clean)

