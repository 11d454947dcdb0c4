"""media -> transcript -> features: the one path that the app, the CLI and corpus extraction share.

`FeaturePipeline` owns the extractors and creates each once, on first use, under a lock: models
load once per process and are shared by every request. An extractor that cannot load (no face
model offline, no Whisper weights) turns its modality off with a notice; it never stops the rest.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable

from .asr import DEFAULT_WHISPER_MODEL, Transcript, WhisperASR
from .errors import AssetUnavailable
from .features.audio import extract_audio, is_silent, warm_up
from .features.spec import AUDIO_DIM, TEXT_DIM, VISUAL_DIM, VISUAL_FPS
from .features.types import FeatureBundle, ModalityFeatures, check_dims
from .media import DEFAULT_MAX_SECONDS, DEFAULT_MAX_UPLOAD_MB, MediaClip, load_image, load_media

Progress = Callable[[float, str], None]
# reads the face and the voice alongside the transcription: one job per request being extracted
_SIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="msa-face-voice")


class FeaturePipeline:
    def __init__(self, whisper_model: str = DEFAULT_WHISPER_MODEL, device: str | None = None,
                 fps: float = VISUAL_FPS, max_seconds: float = DEFAULT_MAX_SECONDS,
                 max_mb: float = DEFAULT_MAX_UPLOAD_MB, parallel: bool = True):
        self.fps = fps
        self.parallel = parallel  # face + voice alongside the transcription (False: one after another)
        self.max_seconds = max_seconds
        self.max_mb = max_mb  # files over this are refused before decoding (MSA_MAX_UPLOAD_MB)
        self.device = device
        self.asr = WhisperASR(whisper_model, device=device)
        self._lock = threading.Lock()
        self._text = self._face = None
        self._text_error = self._face_error = None

    # --- extractors, created once -------------------------------------------------------------
    def text_featurizer(self):
        with self._lock:
            if self._text is None and self._text_error is None:
                try:
                    from .features.text import TextFeaturizer

                    self._text = TextFeaturizer(device=self.device)
                except AssetUnavailable as exc:
                    self._text_error = str(exc)
            return self._text

    def face_featurizer(self):
        with self._lock:
            if self._face is None and self._face_error is None:
                try:
                    from .features.visual import FaceFeaturizer

                    self._face = FaceFeaturizer()
                except AssetUnavailable as exc:
                    self._face_error = str(exc)
            return self._face

    def warm_up(self, asr: bool = True) -> dict[str, str | None]:
        """Load everything now (app start) rather than on the first request; say what is off."""
        warm_up()
        self.text_featurizer()
        self.face_featurizer()
        status = {"text": self._text_error, "visual": self._face_error, "asr": None}
        if asr:
            status["asr"] = self.asr.unavailable_reason()
            self.asr.warm_up()
        return status

    # --- the path -----------------------------------------------------------------------------
    def extract(self, path: str | None = None, transcript: str | None = None,
                progress: Progress | None = None, image_bytes: bytes | None = None) -> FeatureBundle:
        """Features for a media file and/or a transcript. Raises MediaError for unusable input."""
        report = progress or (lambda fraction, desc: None)
        timings: dict[str, float] = {}
        notices: list[str] = []

        report(0.0, "decoding")
        with _timed(timings, "decode"):
            clip = self._decode(path, image_bytes)
        notices += clip.notices if clip else []

        report(0.1, "loading models")
        with _timed(timings, "load"):  # once per process; kept apart so stage times mean something
            self._load_for(clip, transcript)

        asr_notices: list[str] = []
        face_voice_notices: list[str] = []

        def face_and_voice():
            with _timed(timings, "visual"):
                seen = self._visual(clip, face_voice_notices)
            with _timed(timings, "audio"):
                heard = self._audio(clip, face_voice_notices)
            return seen, heard

        # MediaPipe and librosa run on one core, mostly outside the GIL, and Whisper's decoder steps
        # do not fill two cores either: reading the face and the voice alongside the transcription
        # keeps both cores busy (reports/latency.md). Results are the same as one after the other,
        # and the notices keep that order.
        pending = _SIDE.submit(face_and_voice) if self.parallel and clip is not None else None
        try:
            report(0.2, "transcribing" + (", reading the face and the voice" if pending else ""))
            with _timed(timings, "asr"):
                spoken = self._transcript(clip, transcript, asr_notices)
        finally:
            seen_heard = pending.result() if pending is not None else None
        if seen_heard is None:
            report(0.5, "reading the face and the voice")
            seen_heard = face_and_voice()
        (visual, face_fraction, keyframe, landmarks), (audio, voiced_fraction) = seen_heard
        notices += asr_notices + face_voice_notices

        report(0.9, "reading the words")
        with _timed(timings, "text"):
            text = self._text_features(spoken, notices)

        bundle = FeatureBundle(
            text=text, audio=audio, visual=visual, transcript=spoken,
            duration=clip.duration if clip else 0.0, voiced_fraction=voiced_fraction,
            face_fraction=face_fraction, notices=notices, timings=timings,
            keyframe=keyframe, keyframe_landmarks=landmarks,
        )
        check_dims(bundle)
        report(1.0, "done")
        return bundle

    def _load_for(self, clip: MediaClip | None, typed: str | None) -> None:
        """Load what this input needs and is not loaded yet."""
        if clip is not None and clip.has_audio:
            warm_up()
            if not (typed or "").strip() and not is_silent(clip.audio):
                self.asr.load()
        if clip is not None and clip.has_video:
            self.face_featurizer()
        self.text_featurizer()

    def _decode(self, path: str | None, image_bytes: bytes | None) -> MediaClip | None:
        if image_bytes is not None:
            return load_image(image_bytes)
        if path is None:
            return None
        return load_media(path, fps=self.fps, max_seconds=self.max_seconds, max_mb=self.max_mb)

    def _transcript(self, clip: MediaClip | None, typed: str | None, notices: list[str]) -> Transcript:
        if typed is not None and typed.strip():
            return Transcript.typed(typed)
        if clip is None or not clip.has_audio:
            return Transcript("", source="none")
        if is_silent(clip.audio):
            notices.append("no speech heard: text modality off (type a transcript to add it)")
            return Transcript("", source="none")
        result = self.asr.transcribe(clip.audio)
        if result.notice:
            notices.append(result.notice)
        if result.transcript is None:
            return Transcript("", source="none")
        if not result.transcript.text:
            notices.append("Whisper heard no words: text modality off")
        elif (result.transcript.language or "en") != "en":
            notices.append(f"speech detected as '{result.transcript.language}': the text model reads English, "
                           "so the text modality may mean little (type an English transcript to replace it)")
        return result.transcript

    def _visual(self, clip: MediaClip | None, notices: list[str]):
        if clip is None or not clip.has_video:
            return ModalityFeatures.absent(VISUAL_DIM), 0.0, None, None
        face = self.face_featurizer()
        if face is None:
            notices.append(f"face model unavailable ({self._face_error}): visual modality off")
            return ModalityFeatures.absent(VISUAL_DIM), 0.0, clip.frames[len(clip.frames) // 2], None
        if clip.kind == "image":
            track = face.extract_image(clip.frames[0])
        else:
            track = face.extract_video(clip.frames, clip.frame_times)
        features = track.features(clip.frame_times, self.fps)
        if not features.present:
            notices.append("no face found: visual modality off")
        elif track.face_fraction < 0.5:
            notices.append(f"a face is visible in only {track.face_fraction:.0%} of frames")
        if track.multi_face_frames:
            notices.append("more than one face in view: the largest face is read")
        keyframe = track.keyframe if track.keyframe is not None else clip.frames[len(clip.frames) // 2]
        return features, track.face_fraction, keyframe, track.keyframe_landmarks

    def _audio(self, clip: MediaClip | None, notices: list[str]):
        if clip is None or not clip.has_audio:
            return ModalityFeatures.absent(AUDIO_DIM), 0.0
        features, voiced_fraction, notice = extract_audio(clip.audio)
        if notice:
            notices.append(notice)
        return features, voiced_fraction

    def _text_features(self, spoken: Transcript, notices: list[str]) -> ModalityFeatures:
        if not spoken.text:
            return ModalityFeatures.absent(TEXT_DIM)
        featurizer = self.text_featurizer()
        if featurizer is None:
            notices.append(f"text encoder unavailable ({self._text_error}): text modality off")
            return ModalityFeatures.absent(TEXT_DIM)
        return featurizer.encode(spoken.text, spoken.words)


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start
