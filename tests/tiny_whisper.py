"""A tiny, randomly initialised Whisper checkpoint in Whisper's own format (no download).

Random weights decode to nothing useful, and which token wins is then a near-tie that flips with
thread counts. So the special tokens (end-of-text, languages, no-speech) get zero embeddings
(logit 0; language detection then picks the first language, English) and a handful of ordinary
word embeddings are scaled up: greedy decoding emits real words by a wide margin, and the real
`transcribe` path (language detection, timestamp rules, word alignment by DTW over
cross-attention) runs end to end on them.
"""

from __future__ import annotations

from pathlib import Path

from bench.whisper_base import build_random_whisper

TINY_DIMS = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
                 n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=2)


def build_tiny_whisper(path: Path, seed: int = 0) -> Path:
    return build_random_whisper(path, TINY_DIMS, seed)
