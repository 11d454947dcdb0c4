"""The rolling update and the final analysis of a stream, on the app's own public path.

A rolling update: Whisper (`WhisperASR.transcribe`) on the ASR buffer, LocalAgreement on its words,
then the score of the last `window` seconds: the voice and the face of that span through
`FeaturePipeline.extract(clip=…)` (read again every `media_every` seconds, alongside the next
transcription), the words of that span re-embedded by `session.with_transcript`, and
`session.explain` (the exact Shapley contributions). Nothing here knows what the features are.
Tentative words are scored as soon as Whisper hears them; the transcript commits them when the
next hypothesis agrees (agreement.py). The final analysis is the upload path's on the whole
recording: Whisper on all of it, then `session.explain_in_detail`.
"""

from __future__ import annotations

import logging
import time
from concurrent import futures
from dataclasses import replace

import numpy as np

from ..asr import Word
from ..errors import MediaError
from ..features.spec import FEATURE_DIMS, MODALITIES, SAMPLE_RATE
from ..features.types import ModalityFeatures
from ..media import MediaClip
from ..pipeline import FeaturePipeline
from ..session import Extracted, explain, explain_in_detail, with_transcript
from ..zoo import ModelZoo
from .state import MAX_ROWS, RollingUpdate, StreamState

log = logging.getLogger(__name__)
# the rolling updates, off the page's event threads (one per stream at a time)
_UPDATES = futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="msa-stream-update")
# reads the window's voice and face while the next transcription runs (one job per stream at a time)
_MEDIA = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="msa-stream-media")
# the text `extract` embeds while the window's words are not known yet (re-embedded after, by
# `with_transcript`): a transcript given means `extract` runs no Whisper of its own
PLACEHOLDER = "…"
# Whisper's language is kept for the rest of the stream once heard on this much speech: on the first
# second alone it is often wrong ("I mean that" heard as Portuguese), and a language that changes
# between hypotheses keeps them from agreeing
LANGUAGE_AFTER = 3.0


class StreamEngine:
    """Shared by every visitor (one pipeline, one model zoo); all of a stream's data is in its state."""

    def __init__(self, pipeline: FeaturePipeline, zoo: ModelZoo) -> None:
        self.pipeline, self.zoo = pipeline, zoo

    # --- rolling --------------------------------------------------------------------------------
    def poll(self, state: StreamState, model_name: str) -> RollingUpdate | None:
        """What the page calls on every microphone chunk, and returns at once: starts an update in
        the background when one is due and none is running, and hands out the newest finished
        update not handed out yet (None: nothing new). Gradio keeps only the newest chunk that
        arrives while a handler runs, so a handler that waited for an update would lose audio.
        Raises what a failed update raised, once."""
        with state.lock:
            job = state.job
            if job is not None and job.done():
                state.job = None
                if job.exception() is not None:
                    raise job.exception()
            if state.job is None and state.due():
                state.job = _UPDATES.submit(self.update, state, model_name)
            latest = state.latest
            if latest is None or latest.index <= state.shown:
                return None
            state.shown = latest.index
            return latest

    def update(self, state: StreamState, model_name: str) -> RollingUpdate | None:
        """One rolling update from what has been heard and seen so far, now; None when one is
        running already or the stream was restarted meanwhile."""
        if not state.running.acquire(blocking=False):
            return None
        try:
            return self._update(state, model_name)
        finally:
            state.running.release()

    def _update(self, state: StreamState, model_name: str) -> RollingUpdate | None:
        c = state.config
        with state.lock:
            if not state.active:  # stopped before this update began: the final analysis has it all
                return None
            generation = state.generation
            end = state.audio.end
            offset, heard = state.audio.since(state.asr_start)
            clip = _window_clip(state, max(0.0, end - c.window), end)
            hint = _text(w for w in state.agreement.words() if w.end > end - c.window)
            language = state.language
        seconds: dict[str, float] = {}
        media = self._media(state, end, clip, hint, seconds, generation=generation)
        started = time.perf_counter()
        hypothesis, language, asr_notice = self._hear(heard, offset, language)
        seconds["asr"] = time.perf_counter() - started
        with state.lock:
            if state.generation != generation:  # a new recording began meanwhile: this one is stale
                return None
            state.language = state.language or language
            # nothing is committed before the language is settled: a word heard in the wrong one
            # would stay in the transcript for good
            state.agreement.insert(hypothesis, commit=state.language is not None)
            _trim(state, end)
            words = state.agreement.words()
            state.last_update_end = end
            scored = [w for w in words if w.end > end - c.window]
        if media is None:  # the first window, still being read (background): wait for it now
            media = self._media(state, end, clip, hint, seconds, wait=True, generation=generation)
            if media is None:
                return None
        begin = time.perf_counter()
        extracted = self._rolling(media, _text(scored), [asr_notice, _language_notice(language)])
        result = explain(extracted, self.zoo, model_name)
        seconds["score"] = time.perf_counter() - begin
        with state.lock:
            if state.generation != generation:
                return None
            state.updates += 1
            start = max(0.0, end - c.window)
            state.rows = (state.rows + [{"start": start, "end": end, "score": result["score"],
                                         "baseline": result["baseline"],
                                         "contributions": result["contributions"]}])[-MAX_ROWS:]
            update = RollingUpdate(state.updates, end, time.monotonic(), result, scored,
                                   list(state.agreement.committed), list(state.agreement.tentative), seconds)
            state.latest = update
        return update

    def _hear(self, audio: np.ndarray, offset: float, language: str | None):
        """Whisper on the ASR buffer -> (words on the stream clock, language, notice or None). No
        translation here: the rolling text reads the words as heard (the final analysis translates)."""
        if len(audio) < 1600:  # under 0.1 s
            return [], language, None
        result = self.pipeline.asr.transcribe(audio, language=language, translate=False)
        spoken = result.transcript
        if spoken is None or not spoken.words:
            return [], language, result.notice if spoken is None else None
        words = [Word(w.text, w.start + offset, w.end + offset, w.probability) for w in spoken.words]
        settled = language or (spoken.language if len(audio) >= LANGUAGE_AFTER * SAMPLE_RATE else None)
        return words, settled, result.notice

    def _media(self, state: StreamState, end: float, clip: MediaClip | None, hint: str,
               seconds: dict, wait: bool = False, generation: int | None = None) -> Extracted | None:
        """The latest window's voice and face (an Extracted), reading a newer window when one is due:
        in the background (alongside the transcription) unless the config says not to or `wait`.
        None only while the very first window is still being read."""
        c = state.config
        started = time.perf_counter()
        with state.lock:
            if generation is not None and state.generation != generation:
                return None  # restarted meanwhile: read nothing for the old recording
            fresh = state.media is not None and end - state.media[0] < c.media_every
            if state.media_job is None and not fresh and clip is not None:
                state.media_job = (end, _MEDIA.submit(self._read_media, clip, hint))
            job = state.media_job
        if job is not None and (wait or not c.background_media):
            futures.wait([job[1]])
        with state.lock:
            if state.media_job is not None and state.media_job[1].done():
                done, state.media_job = state.media_job, None
                state.media = (done[0], _result(done[1]))
            media = state.media
        seconds["media_wait"] = seconds.get("media_wait", 0.0) + time.perf_counter() - started
        if media is None:
            return _nothing() if clip is None and job is None else None
        return media[1]

    def _read_media(self, clip: MediaClip, hint: str) -> Extracted:
        bundle = self.pipeline.extract(None, transcript=hint or PLACEHOLDER, clip=clip)
        return Extracted(features={m: bundle.modality(m) for m in MODALITIES}, transcript=hint or PLACEHOLDER,
                         notices=list(bundle.notices), keyframe=bundle.keyframe,
                         landmarks=bundle.keyframe_landmarks, duration=float(bundle.duration))

    def _rolling(self, media: Extracted, text: str, notices: list) -> Extracted:
        """The window's voice and face with the window's words (re-embedded; none: text off)."""
        extra = [n for n in notices if n]
        if text:
            rolled = with_transcript(self.pipeline, media, text)
        else:
            absent = ModalityFeatures.absent(FEATURE_DIMS["text"])
            rolled = replace(media, features={**media.features, "text": absent}, transcript="")
            extra.append("no words heard in the window yet")
        return replace(rolled, notices=list(rolled.notices) + extra)

    # --- the end --------------------------------------------------------------------------------
    def finish(self, state: StreamState, model_name: str) -> tuple[Extracted, dict]:
        """The stream stopped (`StreamState.stop`): commit the tentative words, and analyse the whole
        recording as an upload is (Whisper on all of it, the detail panels). Raises MediaError when
        nothing was recorded."""
        with state.lock:  # an update still running was dropped by `stop` (it writes nothing now)
            state.agreement.flush()
            audio = state.audio.recording()
            truncated = state.audio.truncated
            clip = _window_clip(state, 0.0, min(state.audio.end, state.config.max_seconds), audio)
        state.release_media()
        if clip is None or not (clip.has_audio or clip.has_video):
            raise MediaError("nothing was recorded: allow the microphone, speak, then stop")
        bundle = self.pipeline.extract(None, clip=clip)
        spoken = bundle.transcript
        notices = list(bundle.notices)
        if truncated:
            notices.append(f"the stream ran past {state.config.max_seconds:.0f} s: the final analysis "
                           "reads its first part")
        extracted = Extracted(
            features={m: bundle.modality(m) for m in MODALITIES},
            transcript=getattr(spoken, "text", "") or "", words=list(getattr(spoken, "words", []) or []),
            notices=notices, keyframe=bundle.keyframe, landmarks=bundle.keyframe_landmarks,
            language=getattr(spoken, "language", None), timings=dict(bundle.timings),
            duration=float(bundle.duration), voice=bundle.voice)
        result = explain_in_detail(self.pipeline, extracted, self.zoo, model_name)
        with state.lock:
            state.final = (extracted, result)
        return extracted, result


def _window_clip(state: StreamState, start: float, end: float, audio: np.ndarray | None = None):
    """The span [start, end) of the stream as a MediaClip (times from its start); None when empty."""
    if audio is None:
        start, audio = state.audio.since(start)
    frames, times = state.frames.between(start, end)
    duration = max(len(audio) / SAMPLE_RATE, end - start)
    if not len(audio) and not len(frames):
        return None
    if not len(frames):
        return MediaClip.of_audio(audio)
    return MediaClip(kind="video", frames=frames, frame_times=times - start,
                     audio=np.asarray(audio, np.float32), duration=duration)


def _trim(state: StreamState, end: float) -> None:
    """Keep Whisper's buffer short: from the last committed word once it is long, and never past
    `asr_max`; with nothing tentative in it, only its last second is worth hearing again."""
    c, words = state.config, state.agreement
    if end - state.asr_start > c.trim_after:
        if not words.tentative:
            state.asr_start = max(state.asr_start, end - 1.0, words.committed_until)
        elif words.committed:
            state.asr_start = max(state.asr_start, words.committed_until)
    if end - state.asr_start > c.asr_max:
        words.flush()  # what it held for so long is as settled as it gets
        state.asr_start = end - c.trim_after


def _result(future) -> Extracted:
    """A finished media read, or the input without voice and face when it could not be read."""
    try:
        return future.result()
    except MediaError as exc:
        return replace(_nothing(), notices=[f"the last seconds could not be read: {exc}"])
    except Exception:  # a bug, not the visitor's: logged, the rolling score goes on without them
        log.exception("stream media read failed")
        return replace(_nothing(), notices=["the voice and the face could not be read just now"])


def _nothing() -> Extracted:
    return Extracted(features={m: ModalityFeatures.absent(FEATURE_DIMS[m]) for m in MODALITIES})


def _text(words) -> str:
    return " ".join(w.text for w in words).strip()


def _language_notice(language: str | None) -> str | None:
    if language in (None, "en"):
        return None
    return (f"speech heard as '{language}': the rolling score reads the words as heard (the text model "
            "reads English); the final analysis uses Whisper's translation")
