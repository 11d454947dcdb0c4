"""A tiny, randomly initialised Whisper checkpoint in Whisper's own format (no download).

Random weights decode to nothing useful, and which token wins is then a near-tie that flips with
thread counts. So the special tokens (end-of-text, languages, no-speech) get zero embeddings
(logit 0; language detection then picks the first language, English) and a handful of ordinary
word embeddings are scaled up: greedy decoding emits real words by a wide margin, and the real
`transcribe` path (language detection, timestamp rules, word alignment by DTW over
cross-attention) runs end to end on them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

WORDS = "this movie was really good and the acting felt great".split()


def build_tiny_whisper(path: Path, seed: int = 0) -> Path:
    from whisper.model import ModelDimensions, Whisper
    from whisper.tokenizer import get_tokenizer

    torch.manual_seed(seed)
    dims = ModelDimensions(
        n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
        n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=2,
    )
    model = Whisper(dims)
    tokenizer = get_tokenizer(multilingual=True)
    ids = [tokenizer.encode(" " + w)[0] for w in WORDS]
    with torch.no_grad():
        # Whisper allocates this with torch.empty (real checkpoints overwrite it): left alone it is
        # whatever was in memory, and the decoder's output changes from run to run.
        torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
        embedding = model.decoder.token_embedding.weight
        embedding[tokenizer.eot: tokenizer.timestamp_begin] = 0.0
        embedding[ids] *= 30
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
