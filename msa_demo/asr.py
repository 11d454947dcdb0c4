"""Speech to an editable transcript with word times, via openai-whisper.

Weights: `MSA_WHISPER_MODEL` (a model name such as `base`, or a path to a Whisper checkpoint),
resolved by Whisper's own download-and-cache (`~/.cache/whisper`). When the weights cannot be had
(offline, no cache) the result says "ASR unavailable — type the transcript"; it never raises.
A transcript typed by the user skips ASR entirely.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .assets import offline
from .whisper_cpu import PRECISION, PRECISIONS, speed_up

DEFAULT_WHISPER_MODEL = os.environ.get("MSA_WHISPER_MODEL", "base")
UNAVAILABLE = "ASR unavailable — type the transcript"


@dataclass
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass
class Transcript:
    """What was said. `source` is "whisper", "user" (typed or edited) or "none"."""

    text: str
    words: list[Word] = field(default_factory=list)
    language: str | None = None
    source: str = "user"

    @classmethod
    def typed(cls, text: str) -> "Transcript":
        return cls(text=" ".join(text.split()), source="user")


@dataclass
class ASRResult:
    transcript: Transcript | None
    notice: str | None = None


class WhisperASR:
    """Loads Whisper once (lazily, on first use) and serialises calls: one model, many threads."""

    def __init__(self, model: str = DEFAULT_WHISPER_MODEL, device: str | None = None,
                 download_root: str | None = None, decode_options: dict | None = None,
                 precision: str = PRECISION):
        if precision not in PRECISIONS:
            raise ValueError(f"Whisper precision must be one of {PRECISIONS}, not '{precision}'")
        self.model_name = model
        self.precision = precision  # asked for; after loading, what the model runs in (whisper_cpu)
        # extra keyword arguments for Whisper's decoding (e.g. sample_len, to cap decoder steps)
        self.decode_options = dict(decode_options or {})
        self.device = device
        self.download_root = download_root
        self._model = None
        self._error: str | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self):
        """The Whisper model, or None with `self._error` set. Tried once per process."""
        with self._lock:
            if self._model is None and self._error is None:
                self._model, self._error = _load_whisper(self.model_name, self.device, self.download_root)
                if self._model is not None:
                    self.precision = speed_up(self._model, self.precision)
            return self._model

    def warm_up(self) -> None:
        """Compile Whisper's word-alignment DTW (numba, ~2 s once per process) now, at start, rather
        than in the first visitor's request."""
        if self.load() is None:
            return
        try:
            from whisper.timing import dtw_cpu

            dtw_cpu(np.zeros((2, 3), np.float64))
        except Exception:  # pragma: no cover - an optimisation only; transcription compiles it anyway
            pass

    def unavailable_reason(self) -> str | None:
        self.load()
        return self._error

    def transcribe(self, audio: np.ndarray, language: str | None = None) -> ASRResult:
        model = self.load()
        if model is None:
            return ASRResult(None, f"{UNAVAILABLE} ({self._error})")
        if len(audio) == 0:
            return ASRResult(None, "no audio to transcribe")
        import torch

        audio = np.ascontiguousarray(audio, dtype=np.float32)
        fp16 = next(model.parameters()).device.type == "cuda" and torch.cuda.is_available()
        with self._lock, _encoder_memo(model):
            if language is None:
                language = _detect_language(model, audio, torch.float16 if fp16 else torch.float32)
            result = model.transcribe(
                audio,
                language=language,
                temperature=0.0,
                word_timestamps=True,
                condition_on_previous_text=False,
                fp16=fp16,
                verbose=None,
                **self.decode_options,
            )
        words = [
            Word(w["word"].strip(), float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
            for segment in result.get("segments", [])
            for w in segment.get("words", [])
            if w["word"].strip()
        ]
        text = " ".join(result.get("text", "").split())
        return ASRResult(Transcript(text, words, result.get("language"), source="whisper"))


@contextmanager
def _encoder_memo(model):
    """Run Whisper's audio encoder once per 30 s window instead of three times.

    `transcribe` encodes the same padded mel window for language detection (see `_detect_language`),
    for decoding, and again for the word-timestamp alignment. The encoder is most of the cost on CPU
    (~2 s of one core per window for `base`), and its output for the same input is the same, so
    within one call the last (input, output) pair is kept and reused when the input is equal.
    """
    import torch

    encoder = model.encoder
    original = encoder.forward
    own = encoder.__dict__.get("forward")  # an instance-level forward (whisper_cpu's) to restore
    last: list = []

    def forward(x):
        if last and last[0].shape == x.shape and last[0].dtype == x.dtype and torch.equal(last[0], x):
            return last[1]
        out = original(x)
        last[:] = [x.detach().clone(), out]
        return out

    encoder.forward = forward
    try:
        yield
    finally:
        if own is None:
            del encoder.forward  # back to the class's method
        else:
            encoder.forward = own


def _detect_language(model, audio: np.ndarray, dtype) -> str | None:
    """The language of the first 30 s window, from the same padded mel window the decoder then reads
    (Whisper's own `decode` detects from that window too), so the encoder output is shared with it.
    Whisper's `transcribe` instead pads with the log-mel of silence, which costs one more encoder pass
    and can only differ on the language of near-ties. None for an English-only model."""
    import whisper
    from whisper.audio import N_FRAMES, N_SAMPLES
    from whisper.tokenizer import get_tokenizer

    if not model.is_multilingual:
        return None
    mel = whisper.log_mel_spectrogram(audio, model.dims.n_mels, padding=N_SAMPLES)
    content = mel.shape[-1] - N_FRAMES
    segment = whisper.pad_or_trim(mel[:, : min(N_FRAMES, content)], N_FRAMES).to(model.device).to(dtype)
    tokens, _ = model.detect_language(segment)
    # the arg-max token (ties go to the first language, English), not the max over the softmaxed
    # dict, whose exact ties (a test model's) are broken by rounding noise
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages)
    return dict(zip(tokenizer.all_language_tokens, tokenizer.all_language_codes))[int(tokens.reshape(-1)[0])]


def _load_whisper(name: str, device: str | None, download_root: str | None):
    """(model, None) or (None, reason). Any failure here means ASR off, never a crash."""
    try:
        import torch
        import whisper
    except ImportError as exc:  # pragma: no cover - whisper is a hard requirement
        return None, f"openai-whisper not installed: {exc}"
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not os.path.isfile(name) and name not in whisper.available_models():
        return None, f"unknown Whisper model '{name}'"
    if not os.path.isfile(name) and offline() and not _cached(name, download_root):
        return None, f"Whisper '{name}' weights are not cached and downloads are off"
    try:
        return whisper.load_model(name, device=device, download_root=download_root), None
    except Exception as exc:  # network, hash mismatch, corrupt file: all mean "ASR off"
        return None, f"could not load Whisper '{os.path.basename(name)}': {str(exc)[:160]}"


def _cached(name: str, download_root: str | None) -> bool:
    import whisper

    root = download_root or os.path.join(
        os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "whisper"
    )
    url = whisper._MODELS.get(name, "")
    return os.path.isfile(os.path.join(root, os.path.basename(url)))
