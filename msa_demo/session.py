"""One analysed input, cached: the features extracted once, and the explanations computed from them.

The UI keeps an `Extracted` per visitor, so switching model, editing the transcript, toggling
modalities or moving the missing-rate slider never decodes or re-reads the media again: only an
edited transcript is re-embedded (milliseconds), and only the text modality changes.
The `/analyze` endpoint and `python -m msa_demo analyze` call `analyze_input`, the same path
(`explain_in_detail`: the explanation, sentiment over time and word attributions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .analysis import analyze_features
from .arousal import read_arousal
from .asr import Transcript
from .features.spec import MODALITIES, TEXT_DIM
from .features.types import ModalityFeatures
from .features.voice_reference import VoiceReference, combine
from .over_time import over_time
from .pipeline import FeaturePipeline
from .word_attribution import word_attributions
from .zoo import ModelZoo

Progress = Callable[[float, str], None]


@dataclass
class Extracted:
    """What the explanation and the figures need about one input (live or from a corpus cache)."""

    features: dict[str, ModalityFeatures]
    transcript: str = ""
    words: list = field(default_factory=list)  # asr.Word with times; empty for typed/edited text
    notices: list[str] = field(default_factory=list)
    keyframe: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    media_path: str | None = None
    source: str = "live"  # "live" or "mosi/test/<id>" for a corpus sample
    language: str | None = None  # what Whisper detected; None for typed text
    timings: dict[str, float] = field(default_factory=dict)  # extraction stage -> seconds (live input)
    duration: float = 0.0  # seconds of media (0 for typed text alone)
    voice: object | None = None  # features.audio.Voice: the raw voice and its own reference (re-basing)
    voice_baseline: str = "own"  # what the voice is measured against: "own" or "session:<n recordings>"

    @property
    def typed(self) -> bool:
        """The transcript was typed or edited (Whisper's have a language and, when spoken, word times)."""
        return bool(self.transcript) and self.language is None and not self.words


def extract_input(pipeline: FeaturePipeline, path: str | None, transcript: str | None = None,
                  progress: Progress | None = None) -> Extracted:
    """media and/or typed text -> Extracted. Raises MediaError for unusable input."""
    typed = (transcript or "").strip() or None
    bundle = pipeline.extract(path, transcript=typed, progress=progress)
    spoken = bundle.transcript
    return Extracted(
        features={m: bundle.modality(m) for m in MODALITIES},
        transcript=getattr(spoken, "text", "") or "",
        words=list(getattr(spoken, "words", []) or []),
        notices=list(bundle.notices),
        keyframe=bundle.keyframe,
        landmarks=bundle.keyframe_landmarks,
        media_path=path,
        language=getattr(spoken, "language", None),
        timings=dict(bundle.timings),
        duration=float(bundle.duration),
        voice=bundle.voice,
    )


def with_session_baseline(extracted: Extracted, session: VoiceReference | None,
                          recordings: int) -> tuple[Extracted, VoiceReference | None, int]:
    """The Live tab's running baseline: the voice measured against the median of this recording and
    the session's earlier ones (`session`, `recordings` of them); returns the input so measured, the
    session's reference with this recording added, and the new count. A recording without a voice
    leaves the session as it was. Only medians are kept, never audio."""
    voice = extracted.voice
    if voice is None or not extracted.features["audio"].present:
        return extracted, session, recordings
    running = combine([session, voice.reference])
    if session is None:
        return extracted, running, 1
    audio = voice.against(running)
    notice = (f"voice measured against your {recordings + 1} recordings in this session (untick "
              "'Session voice baseline' when someone else speaks)")
    return (replace(extracted, features={**extracted.features, "audio": audio},
                    notices=extracted.notices + [notice], voice_baseline=f"session:{recordings + 1}"),
            running, recordings + 1)


def with_transcript(pipeline: FeaturePipeline, extracted: Extracted, text: str) -> Extracted:
    """The same input with an edited transcript: re-embed the text only; audio and visual are kept.

    Edited text has no word times (they belonged to the words Whisper heard)."""
    text = " ".join((text or "").split())
    if text == extracted.transcript:
        return extracted
    notices = [n for n in extracted.notices if not _about_text(n)]
    if not text:
        features = ModalityFeatures.absent(TEXT_DIM)
        notices.append("transcript cleared: text modality off")
    else:
        featurizer = pipeline.text_featurizer()
        if featurizer is None:
            features = ModalityFeatures.absent(TEXT_DIM)
            notices.append("text encoder unavailable: text modality off")
        else:
            features = featurizer.encode(Transcript.typed(text).text)
    return replace(extracted, features={**extracted.features, "text": features}, transcript=text,
                   words=[], notices=notices, language=None)


def explain(extracted: Extracted, zoo: ModelZoo, model_name: str, *, present=None,
            rate: float = 0.0, seed: int = 0) -> dict:
    """The analysis JSON for one model, with what is off about the input and the model."""
    model = zoo.get(model_name)
    notices = list(extracted.notices)
    if zoo.notice(model_name):
        notices.append(zoo.notice(model_name))
    result = analyze_features(extracted.features, model, transcript=extracted.transcript,
                              notices=notices, present=present, rate=rate, seed=seed)
    result["model"] = model_name
    result["trained"] = zoo.card(model_name) is not None
    result["language"] = extracted.language
    result["arousal"] = read_arousal(extracted.features)
    result["voice_baseline"] = extracted.voice_baseline
    return result


def explain_in_detail(pipeline: FeaturePipeline, extracted: Extracted, zoo: ModelZoo,
                      model_name: str) -> dict:
    """`explain` plus "over_time" (windows of the clip, each scored and explained) and
    "word_attributions" (leave-one-word-out on the text): what the Live tab and `/analyze` show."""
    result = explain(extracted, zoo, model_name)
    model = zoo.get(model_name)
    result["over_time"] = over_time(extracted.features, model, extracted.duration)
    result["word_attributions"] = word_attributions(
        extracted.features, model, extracted.transcript, _word_encoder(pipeline, extracted), extracted.words)
    return result


def _word_encoder(pipeline: FeaturePipeline, extracted: Extracted):
    """The text encoder for leave-one-word-out, or None when the words shown are not the words the text
    model read (Whisper's English translation of other speech) or there is no encoder."""
    if extracted.language not in (None, "en"):
        return None
    featurizer = pipeline.text_featurizer()
    return featurizer.encode_batch if featurizer is not None else None


def analyze_input(pipeline: FeaturePipeline, zoo: ModelZoo, path: str | None, transcript: str | None,
                  model_name: str, progress: Progress | None = None) -> dict:
    """media file and/or transcript -> the analysis JSON (the `/analyze` endpoint and the CLI)."""
    return explain_in_detail(pipeline, extract_input(pipeline, path, transcript, progress), zoo, model_name)


def _about_text(notice: str) -> bool:
    """Notices that an edited transcript makes stale (they were about the old text)."""
    lowered = notice.lower()
    return "text modality" in lowered or "whisper" in lowered or "transcript" in lowered
