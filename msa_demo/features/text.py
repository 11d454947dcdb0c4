"""Text features: all-MiniLM-L6-v2 token states (384-d, lower-cased, <= 64 tokens), with the
sentiment adapter (text_adapter.py) merged into its weights.

Token times come from Whisper's word times (each token inherits the time of the word it falls in);
typed text has no times (NaN). The weights are hash-checked on load (see assets.py).
"""

from __future__ import annotations

import threading

import numpy as np

from ..assets import TEXT_ADAPTER_SHA256, resolve_text_model
from .spec import TEXT_DIM, TEXT_MAX_TOKENS
from .text_adapter import ADAPTER_PATH, merge_adapter
from .types import ModalityFeatures


class TextFeaturizer:
    def __init__(self, model_dir: str | None = None, device: str | None = None,
                 adapter: str | None = str(ADAPTER_PATH)):
        """`adapter=None` gives the plain encoder (for comparisons; its features are not the spec's)."""
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a bar per load is noise in the CLI's output

        folder = model_dir or str(resolve_text_model())
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModel.from_pretrained(folder)
        if adapter is not None:
            merge_adapter(model, adapter, expected_sha256=TEXT_ADAPTER_SHA256)
        self.model = model.to(self.device).eval()
        self._lock = threading.Lock()

    def encode(self, text: str, words: list | None = None) -> ModalityFeatures:
        return self.encode_batch([text], [words])[0]

    def encode_batch(self, texts: list[str], words: list | None = None,
                     batch_size: int = 64) -> list[ModalityFeatures]:
        """One ModalityFeatures per text; empty text -> modality off."""
        import torch

        words = words or [None] * len(texts)
        cleaned = [" ".join((t or "").lower().split()) for t in texts]
        out: list[ModalityFeatures | None] = [None] * len(texts)
        todo = [i for i, t in enumerate(cleaned) if t]
        for i in range(len(texts)):
            if not cleaned[i]:
                out[i] = ModalityFeatures.absent(TEXT_DIM)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start: start + batch_size]
            enc = self.tokenizer(
                [cleaned[i] for i in chunk], truncation=True, max_length=TEXT_MAX_TOKENS,
                padding=True, return_tensors="pt", return_offsets_mapping=True,
            )
            offsets = enc.pop("offset_mapping").numpy()
            with self._lock, torch.inference_mode():
                states = self.model(**{k: v.to(self.device) for k, v in enc.items()}).last_hidden_state
            states = states.float().cpu().numpy()
            lengths = enc["attention_mask"].sum(1).numpy()
            for row, i in enumerate(chunk):
                n = int(lengths[row])
                times = _token_times(cleaned[i], offsets[row, :n], words[i])
                out[i] = ModalityFeatures(states[row, :n], np.ones(n, bool), times)
        return out  # type: ignore[return-value]


def _token_times(text: str, offsets: np.ndarray, words) -> np.ndarray:
    """[n, 2] start/end per token from the word whose characters it covers; NaN if unknown."""
    times = np.full((len(offsets), 2), np.nan, np.float32)
    if not words:
        return times
    spans = _word_char_spans(text, words)
    for t, (a, b) in enumerate(offsets):
        if b <= a:  # [CLS] / [SEP]
            continue
        for (ws, we), word in spans:
            if ws <= a < we:
                times[t] = (word.start, word.end)
                break
    return times


def _word_char_spans(text: str, words) -> list:
    """Locate each timed word in the (lower-cased) text, left to right."""
    spans, cursor = [], 0
    for word in words:
        token = " ".join(word.text.lower().split())
        if not token:
            continue
        at = text.find(token, cursor)
        if at < 0:
            continue
        spans.append(((at, at + len(token)), word))
        cursor = at + len(token)
    return spans
