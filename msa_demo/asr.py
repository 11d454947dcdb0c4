"""Speech to an editable transcript with word times, via faster-whisper (CTranslate2).

int8 on CPU (any x86-64 or ARM CPU: CTranslate2 picks the kernels), float16 on CUDA. Weights:
`MSA_WHISPER_MODEL` (a size name, default `base`, or a CTranslate2 model folder), resolved as
`whisper_weights.py` describes; when they cannot be had the result says "ASR unavailable — type the
transcript" and never raises. A transcript typed by the user skips ASR entirely.

Each 30 s window is encoded once per call: faster-whisper would encode the first window twice
(once to detect the language, once to decode) and a third time to translate; here the encoder
output is memoised by its input and the language is read from the same output the decoder then uses.
The voice features do not read Whisper (features/audio.py): the ASR lock is held for the words alone.
Speech that is not English keeps its transcript for the page and is also translated (Whisper's
`translate` task: decoder passes only) for the English text model.
"""

from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from faster_whisper import WhisperModel

from .errors import AssetUnavailable
from .whisper_weights import resolve_whisper

DEFAULT_WHISPER_MODEL = os.environ.get("MSA_WHISPER_MODEL", "base")
UNAVAILABLE = "ASR unavailable — type the transcript"
SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02  # one encoder state per 20 ms (Whisper's 2x down-sampled 10 ms mel frames)
# greedy with temperature fallback: on 2 cores beam 5 costs ~60% more for a few words of a 12 s clip
DECODE_OPTIONS = {"beam_size": 1, "condition_on_previous_text": False, "vad_filter": False}
MAX_TOKENS_PER_SECOND = 8
NO_SPEECH = "no speech detected (voice activity detector): text modality off — type a transcript to add it"


@dataclass
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass
class Transcript:
    """What was said. `source` is "whisper", "user" (typed or edited) or "none".

    `english`: Whisper's translation when the speech was not English (no word times: its words
    were not spoken); the text model reads it, the page shows `text`."""

    text: str
    words: list[Word] = field(default_factory=list)
    language: str | None = None
    source: str = "user"
    english: str | None = None

    @classmethod
    def typed(cls, text: str) -> "Transcript":
        return cls(text=" ".join(text.split()), source="user")

    def for_text_model(self) -> tuple[str, list[Word]]:
        """The English words the text model reads (the translation, when there is one)."""
        if self.english:
            return self.english, []
        return self.text, self.words


@dataclass
class ASRResult:
    transcript: Transcript | None
    notice: str | None = None


def default_device() -> str:
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # pragma: no cover - a broken CUDA install means CPU
        return "cpu"


class WhisperASR:
    """Loads Whisper once (lazily, on first use) and serialises calls: one model, many threads."""

    def __init__(self, model: str = DEFAULT_WHISPER_MODEL, device: str | None = None,
                 compute_type: str | None = None, cpu_threads: int | None = None,
                 decode_options: dict | None = None):
        self.model_name = model
        self.device = device or default_device()
        self.compute_type = compute_type or ("float16" if self.device == "cuda" else "int8")
        # Whisper shares the cores with the face and the voice readers: more threads than cores
        # only makes them wait for each other (reports/latency.md)
        self.cpu_threads = cpu_threads or int(os.environ.get("MSA_WHISPER_THREADS", 0)) or min(os.cpu_count() or 1, 4)
        self.decode_options = {**DECODE_OPTIONS, **(decode_options or {})}
        self.origin: str | None = None  # where the weights came from, once loaded
        self._model = None
        self._error: str | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self):
        """The faster-whisper model, or None with `self._error` set. Tried once per process."""
        with self._lock:
            if self._model is None and self._error is None:
                try:
                    folder, self.origin = resolve_whisper(self.model_name)
                    self._model = _MemoisedWhisper(folder, device=self.device, compute_type=self.compute_type,
                                                   cpu_threads=self.cpu_threads)
                except AssetUnavailable as exc:
                    self._error = str(exc)
                except Exception as exc:  # a corrupt folder, a CUDA library missing: ASR off
                    self._error = f"could not load Whisper '{os.path.basename(self.model_name)}': {str(exc)[:160]}"
            return self._model

    def warm_up(self) -> None:
        """Run the encoder once now, at start, so the first visitor does not pay CTranslate2's
        first-call allocations."""
        model = self.load()
        if model is not None:
            with self._lock:
                model.encode(model.feature_extractor(np.zeros(SAMPLE_RATE, np.float32)))

    def unavailable_reason(self) -> str | None:
        self.load()
        return self._error

    def transcribe(self, audio: np.ndarray, language: str | None = None, translate: bool = True) -> ASRResult:
        model = self.load()
        if model is None:
            return ASRResult(None, f"{UNAVAILABLE} ({self._error})")
        if len(audio) == 0:
            return ASRResult(None, "no audio to transcribe")
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if not _has_speech(audio):
            return ASRResult(Transcript("", language=None, source="whisper"), NO_SPEECH)
        # a loop of one token on noise can run to 448 tokens a window: allow twice a fast speaker's rate
        cap = {"max_new_tokens": int(MAX_TOKENS_PER_SECOND * min(len(audio) / SAMPLE_RATE, 30.0)) + 16}
        with self._lock, model.memo():
            features = model.feature_extractor(audio)
            if language is None:
                language = model.language_of(features)
            words, text = self._decode(model, audio, language, "transcribe", cap)
            english = None
            if translate and language != "en":
                # greedy only: a translation's log-probabilities sit below the fallback threshold, so
                # the fallback would decode it six times over; its words get no times (they are not
                # the words spoken)
                _, english = self._decode(model, audio, language, "translate",
                                          {**cap, "temperature": 0.0, "word_timestamps": False})
        return ASRResult(Transcript(text, words, language, source="whisper", english=english))

    def _decode(self, model, audio: np.ndarray, language: str, task: str, cap: dict) -> tuple[list[Word], str]:
        options = {"word_timestamps": True, **self.decode_options, **cap}
        segments, _ = model.transcribe(audio, language=language, task=task, **options)
        segments = list(segments)  # a generator: decoding happens here
        words = [Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                 for segment in segments for w in (segment.words or []) if w.word.strip()]
        return words, " ".join("".join(s.text for s in segments).split())


class _MemoisedWhisper(WhisperModel):
    """faster-whisper's model whose encoder runs once per distinct window within a `memo()` block."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._memo: dict | None = None

    @contextmanager
    def memo(self):
        """Within the block, each distinct window is encoded once."""
        self._memo = {}
        try:
            yield
        finally:
            self._memo = None

    def encode(self, features):
        if self._memo is None:
            return super().encode(features)
        window = np.ascontiguousarray(features if features.ndim == 2 else features[0])
        key = hashlib.blake2b(window.tobytes(), digest_size=16).digest()
        if key not in self._memo:
            self._memo[key] = super().encode(features)
        return self._memo[key]

    def first_window(self, features: np.ndarray) -> np.ndarray:
        """The padded first window exactly as `generate_segments` cuts it (so its encoding is reused)."""
        from faster_whisper.audio import pad_or_trim

        content = features.shape[-1] - 1
        return pad_or_trim(features[:, : min(self.feature_extractor.nb_max_frames, content)])

    def language_of(self, features: np.ndarray) -> str:
        """Whisper's language for the first window, read from the encoder output the decoder uses."""
        if not self.model.is_multilingual:
            return "en"
        token, _ = self.model.detect_language(self.encode(self.first_window(features)))[0][0]
        return token[2:-2]  # "<|de|>" -> "de"


def _has_speech(audio: np.ndarray) -> bool:
    """Silero VAD (faster-whisper's, ~30 ms for 12 s on CPU) before Whisper: on silence or noise
    Whisper invents words ("1.0.0.0…", "Thank you.") and spends seconds doing it."""
    from faster_whisper.vad import get_speech_timestamps

    return bool(get_speech_timestamps(audio))
