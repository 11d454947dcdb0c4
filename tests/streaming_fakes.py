"""A scripted microphone and a stand-in pipeline for the streaming engine's tests (no models).

The audio carries its own clock: each sample's value is its stream time / 100 (negated for the
second speaker), so the fake Whisper knows which span of the stream it was given and says the
scripted words of that span, the last one cut short while it is still being spoken, as Whisper does.
"""

from __future__ import annotations

import zlib

import numpy as np

from msa_demo.asr import ASRResult, Transcript, Word
from msa_demo.features.spec import FEATURE_DIMS
from msa_demo.features.types import FeatureBundle, ModalityFeatures

RATE = 16_000
SCRIPTS = {
    1: "i mean that was really impressive and the whole film was a delight to watch from start to end",
    -1: "honestly the plot was a mess and the acting was so bad that i wanted to leave after an hour",
}
WORD_SECONDS = 0.4  # each scripted word takes this long, back to back


def script_words(speaker: int) -> list[Word]:
    return [Word(w, i * WORD_SECONDS, (i + 1) * WORD_SECONDS) for i, w in enumerate(SCRIPTS[speaker].split())]


def speech(start: float, seconds: float, speaker: int = 1) -> np.ndarray:
    """`seconds` of the scripted speaker's audio from stream time `start`."""
    t = start + np.arange(int(round(seconds * RATE))) / RATE
    return (speaker * t / 100.0).astype(np.float32)


def frame(speaker: int = 1, size: tuple[int, int] = (48, 64)) -> np.ndarray:
    return np.full(size + (3,), 100 + 50 * speaker, np.uint8)


class FakeASR:
    """Says the scripted words inside the audio's span; the last one cut short when it ends within
    PARTIAL s of the span's end (so it differs from the next hypothesis until it has been said).
    `spans`: the stream spans it was given."""

    PARTIAL = 0.25

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self.languages: list[str | None] = []  # the language each call was given
        self.short = "en"  # the language it detects on under 3 s (as Whisper, often wrong)

    def transcribe(self, audio: np.ndarray, language: str | None = None, translate: bool = True) -> ASRResult:
        speaker = 1 if audio[len(audio) // 2] >= 0 else -1
        start = abs(float(audio[0])) * 100.0
        end = start + len(audio) / RATE
        self.spans.append((start, end))
        self.languages.append(language)
        words = [w for w in script_words(speaker) if w.start >= start - 1e-6 and w.start < end]
        out = []
        for w in words:
            if w.end > end - self.PARTIAL:  # half heard: its first half, or nothing for a short word
                if len(w.text) > 2:
                    out.append(Word(w.text[:len(w.text) // 2] + "-", w.start - start, end - start))
                break
            out.append(Word(w.text, w.start - start, w.end - start))
        detected = language or (self.short if end - start < 3.0 else "en")
        return ASRResult(Transcript(" ".join(w.text for w in out), out, detected, source="whisper"))


class FakeText:
    def encode(self, text: str, words=None) -> ModalityFeatures:
        return self.encode_batch([text])[0]

    def encode_batch(self, texts, words=None) -> list[ModalityFeatures]:
        out = []
        for text in texts:
            tokens = text.split()
            if not tokens:
                out.append(ModalityFeatures.absent(FEATURE_DIMS["text"]))
                continue
            values = np.stack([_vector(t, FEATURE_DIMS["text"]) for t in tokens])
            unknown = np.full((len(tokens), 2), np.nan)
            out.append(ModalityFeatures(values, np.ones(len(tokens), bool), unknown))
        return out


class FakePipeline:
    """`extract(None, transcript=…, clip=…)`: one voice step per 0.1 s and one face step per frame,
    whatever the spec's widths; no transcript given -> the fake Whisper on the whole clip."""

    def __init__(self) -> None:
        self.asr = FakeASR()
        self.clips: list = []
        self._text = FakeText()
        self.fail_media = False

    def text_featurizer(self) -> FakeText:
        return self._text

    def extract(self, path=None, transcript=None, clip=None, **_):
        from msa_demo.errors import MediaError

        if self.fail_media:
            raise MediaError("the recording is damaged")
        self.clips.append(clip)
        if transcript is None:
            spoken = self.asr.transcribe(clip.audio).transcript
        else:
            spoken = Transcript.typed(transcript)
        steps = max(1, int(clip.duration * 10))
        audio = ModalityFeatures(np.full((steps, FEATURE_DIMS["audio"]), 0.1), np.ones(steps, bool),
                                 np.stack([np.arange(steps) / 10, np.arange(1, steps + 1) / 10], 1))
        n = len(clip.frames)
        visual = (ModalityFeatures(np.full((n, FEATURE_DIMS["visual"]), 0.2), np.ones(n, bool),
                                   np.stack([clip.frame_times, clip.frame_times + 0.1], 1))
                  if n else ModalityFeatures.absent(FEATURE_DIMS["visual"]))
        return FeatureBundle(text=self._text.encode(spoken.text), audio=audio, visual=visual,
                             transcript=spoken, duration=clip.duration)


def _vector(token: str, dim: int) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(token.encode())).normal(size=dim).astype(np.float32)
