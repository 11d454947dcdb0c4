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

import numpy as np

from .asr import DEFAULT_WHISPER_MODEL, Transcript, WhisperASR
from .errors import AssetUnavailable, MediaError
from .features.audio import Voice, is_silent, prosody, speech_span, usable_audio, voice_features, warm_up
from .features.egemaps import egemaps_lld
from .features.spec import AUDIO_DIM, TEXT_DIM, VISUAL_DIM, VISUAL_FPS
from .features.types import FeatureBundle, ModalityFeatures, check_dims
from .media import (DEFAULT_MAX_SECONDS, DEFAULT_MAX_UPLOAD_MB, MediaClip, load_audio_track, load_image,
                    load_media, media_kind)

Progress = Callable[[float, str], None]
# reads the face and the voice alongside the transcription: two jobs per request being extracted
_SIDE = ThreadPoolExecutor(max_workers=8, thread_name_prefix="msa-face-voice")


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
                    from .features.face_cnn import FaceCNNError
                    from .features.visual import FaceFeaturizer

                    self._face = FaceFeaturizer()
                except (AssetUnavailable, FaceCNNError) as exc:
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
                progress: Progress | None = None, image_bytes: bytes | None = None,
                audio_samples: np.ndarray | None = None, clip: MediaClip | None = None) -> FeatureBundle:
        """Features for a media file and/or a transcript. Raises MediaError for unusable input.
        `audio_samples`: 16 kHz audio given as an array instead of a file (training's augmented voices).
        `clip`: media already decoded (and perturbed: msa_demo/perturb/sweep.py) instead of a file.
        The voice is measured against the recording's own median (`bundle.voice` can re-base it)."""
        report = progress or (lambda fraction, desc: None)
        timings: dict[str, float] = {}
        notices: list[str] = []

        asr_notices: list[str] = []
        face_notices: list[str] = []
        voice_notices: list[str] = []

        def face(clip):
            with _timed(timings, "visual"):
                return self._visual(clip, face_notices)

        def voice(clip):
            with _timed(timings, "audio"):
                return self._voice(clip, voice_notices)

        def decode_and_read(clip=None):
            """Decode (unless done), then read the face here and the voice as a job of its own."""
            if clip is None:
                with _timed(timings, "decode"):
                    clip = self._decode(path, image_bytes, audio_samples, given)
            heard = _SIDE.submit(voice, clip) if clip is not None else None
            return clip, face(clip), heard

        # Whisper, MediaPipe and librosa each keep about one core busy, and not all of the time: on
        # two cores the transcription runs alongside the face and the voice (reports/latency.md).
        # For a video the audio track is decoded first, alone (tens of ms), so Whisper starts while
        # the frames are still being decoded. Results and notices are those of one step after the
        # other (`parallel=False`).
        report(0.0, "decoding")
        given = clip
        early_audio = self._audio_first(path, transcript)
        if early_audio is not None:
            clip, audio, has_video = None, early_audio, True
            reading = _SIDE.submit(decode_and_read)
        else:
            with _timed(timings, "decode"):
                clip = self._decode(path, image_bytes, audio_samples, given)
            audio, has_video = (clip.audio, clip.has_video) if clip else (None, False)
            reading = _SIDE.submit(decode_and_read, clip) if self.parallel and clip is not None else None
        report(0.1, "loading models")
        self._load_for(audio, has_video, transcript, timings)
        try:
            report(0.2, "transcribing" + (", reading the face and the voice" if reading else ""))
            with _timed(timings, "asr"):
                spoken = self._transcript(audio, transcript, asr_notices)
        finally:
            # a MediaError from decoding is raised here
            clip, seen, heard = reading.result() if reading else (clip, None, None)
        if early_audio is not None and not np.array_equal(early_audio, clip.audio):
            asr_notices.clear()  # a damaged file, cut short with its frames: transcribe what was kept
            spoken = self._transcript(clip.audio, transcript, asr_notices)
        if reading is None:
            report(0.5, "reading the face and the voice")
            seen = face(clip)
        voiced = heard.result() if heard is not None else voice(clip)
        audio = voiced.features if voiced is not None else ModalityFeatures.absent(AUDIO_DIM)
        visual, face_fraction, keyframe, landmarks = seen
        notices += (clip.notices if clip else []) + asr_notices + face_notices + voice_notices

        report(0.9, "reading the words")
        with _timed(timings, "text"):
            text = self._text_features(spoken, notices)

        bundle = FeatureBundle(
            text=text, audio=audio, visual=visual, transcript=spoken,
            duration=clip.duration if clip else 0.0,
            voiced_fraction=voiced.voiced_fraction if voiced is not None else 0.0,
            face_fraction=face_fraction, notices=notices, timings=timings,
            keyframe=keyframe, keyframe_landmarks=landmarks, voice=voiced,
        )
        check_dims(bundle)
        report(1.0, "done")
        return bundle

    def _load_for(self, audio, has_video: bool, typed: str | None, timings: dict[str, float]) -> None:
        """Load what this input needs and is not loaded yet (once per process; timed apart, so that
        stage times mean something)."""
        with _timed(timings, "load"):
            if audio is not None and len(audio):
                warm_up()
                if not is_silent(audio) and not (typed or "").strip():
                    self.asr.load()  # the transcription (the voice does not need Whisper)
            if has_video:
                self.face_featurizer()
            self.text_featurizer()

    def _audio_first(self, path: str | None, typed: str | None):
        """A video's audio track, decoded alone, when there is one to transcribe alongside the
        frames' decoding; else None (and the input takes the one-step path)."""
        if not self.parallel or path is None or (typed or "").strip():
            return None
        try:
            if media_kind(path) != "video":
                return None
        except MediaError:
            return None
        return load_audio_track(path, max_seconds=self.max_seconds, max_mb=self.max_mb)

    def decode(self, path: str) -> MediaClip:
        """A media file decoded as `extract` decodes it (frames at the pipeline's rate, 16 kHz audio)."""
        return load_media(path, fps=self.fps, max_seconds=self.max_seconds, max_mb=self.max_mb)

    def _decode(self, path: str | None, image_bytes: bytes | None,
                audio_samples: np.ndarray | None = None,
                clip: MediaClip | None = None) -> MediaClip | None:
        if clip is not None:
            return clip
        if image_bytes is not None:
            return load_image(image_bytes)
        if audio_samples is not None:
            return MediaClip.of_audio(audio_samples)
        if path is None:
            return None
        return load_media(path, fps=self.fps, max_seconds=self.max_seconds, max_mb=self.max_mb)

    def _transcript(self, audio, typed: str | None, notices: list[str]) -> Transcript:
        """The transcript: typed, or Whisper's."""
        if typed is not None and typed.strip():
            return Transcript.typed(typed)
        if audio is None or not len(audio):
            return Transcript("", source="none")
        if is_silent(audio):
            notices.append("no speech heard: text modality off (type a transcript to add it)")
            return Transcript("", source="none")
        result = self.asr.transcribe(audio)
        if result.notice:
            notices.append(result.notice)
        if result.transcript is None:
            return Transcript("", source="none")
        spoken = result.transcript
        if not spoken.text:
            if not result.notice:
                notices.append("Whisper heard no words: text modality off")
        elif spoken.english:
            notices.append(f"speech detected as '{spoken.language}': the text model reads English, so it reads "
                           "Whisper's English translation (the transcript shows the original words)")
        elif (spoken.language or "en") != "en":
            notices.append(f"speech detected as '{spoken.language}': the text model reads English, so the text "
                           "modality may mean little (type an English transcript to replace it)")
        return spoken

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

    def _voice(self, clip: MediaClip | None, notices: list[str]) -> Voice | None:
        """The voice (pyin, openSMILE, the speech span), alongside the transcription; None when
        there is none to read."""
        if clip is None or not clip.has_audio:
            return None
        why_not = usable_audio(clip.audio)
        if why_not is not None:
            if why_not:
                notices.append(why_not)
            return None
        y = clip.audio
        return voice_features(prosody(y), egemaps_lld(y), speech_span(y), len(y))

    def _text_features(self, spoken: Transcript, notices: list[str]) -> ModalityFeatures:
        if not spoken.text:
            return ModalityFeatures.absent(TEXT_DIM)
        featurizer = self.text_featurizer()
        if featurizer is None:
            notices.append(f"text encoder unavailable ({self._text_error}): text modality off")
            return ModalityFeatures.absent(TEXT_DIM)
        return featurizer.encode(*spoken.for_text_model())


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = time.perf_counter() - start
