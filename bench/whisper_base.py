"""A Whisper checkpoint with `base` dimensions and random weights, for timing when the real weights
are absent (offline). Same layers, same vocabulary, same 30 s window as `base`, so every matrix
product costs what it costs with the real weights; only the words are meaningless.

Random weights decode to noise, and noise may run to the decoder's limit (224 tokens) where a real
transcript of a 12 s clip has about 40. So, as in tests/tiny_whisper.py, the special tokens get zero
embeddings (language detection then picks English, end-of-text never wins) and a few word
embeddings are scaled up (greedy decoding emits real words, so the word-timestamp alignment runs
on them); and the benchmark caps decoding at `tokens_for(duration)` decoder steps, the length of a
transcript spoken at a brisk pace. The timed work is then: log-mel, encoder, language detection,
that many decoder steps, and word alignment (DTW over cross-attention), exactly Whisper's own path.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path

BASE_DIMS = dict(n_mels=80, n_audio_ctx=1500, n_audio_state=512, n_audio_head=8, n_audio_layer=6,
                 n_vocab=51865, n_text_ctx=448, n_text_state=512, n_text_head=8, n_text_layer=6)
WORDS = "this movie was really good and the acting felt great".split()
# ~160 words per minute, ~1.3 Whisper tokens per English word: 3.5 tokens a second of speech.
TOKENS_PER_SECOND = 3.5


def tokens_for(duration: float) -> int:
    """Decoder steps to time for `duration` seconds of speech (a brisk speaker, never fewer than 8)."""
    return max(8, math.ceil(TOKENS_PER_SECOND * duration))


def default_path() -> Path:
    root = Path(os.environ.get("MSA_CACHE_DIR", Path.home() / ".cache" / "msa_demo"))
    return root / "bench" / "whisper-base-random.pt"


def build_random_base(path: str | Path | None = None, seed: int = 0) -> Path:
    """Write (once) and return the checkpoint path; Whisper loads it like a downloaded one."""
    path = Path(path) if path else default_path()
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    build_random_whisper(tmp, BASE_DIMS, seed)
    os.replace(tmp, path)
    return path


def build_random_whisper(path: str | Path, dims: dict, seed: int = 0) -> Path:
    """A Whisper checkpoint of `dims` with random weights, in Whisper's own format (no download):
    special tokens zeroed and WORDS scaled up, so greedy decoding emits real words (module doc)."""
    import torch
    from whisper.model import ModelDimensions, Whisper
    from whisper.tokenizer import get_tokenizer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Whisper(ModelDimensions(**dims))
        tokenizer = get_tokenizer(multilingual=True)
        ids = [tokenizer.encode(" " + w)[0] for w in WORDS]
        with torch.no_grad():
            # Whisper allocates this with torch.empty (real checkpoints overwrite it): left alone it
            # is whatever was in memory, and the decoder's output changes from run to run.
            torch.nn.init.normal_(model.decoder.positional_embedding, std=0.02)
            embedding = model.decoder.token_embedding.weight
            embedding[tokenizer.eot: tokenizer.timestamp_begin] = 0.0
            embedding[ids] *= 30
    torch.save({"dims": asdict(model.dims), "model_state_dict": model.state_dict()}, path)
    return Path(path)


def cap_decoding(asr, duration: float) -> int:
    """Make the random model transcribe `duration` s of speech the way a real one does: one 30 s window,
    `tokens_for(duration)` decoder steps, ending on the timestamp of the clip's end.

    A real transcript ends with a timestamp token, so Whisper moves on by the whole window. Capped
    random output ends mid-word instead, and Whisper would then restart at the last word's (random)
    end time and decode the rest again, window after window — work a real transcript never causes.
    So the decoded tokens get the closing timestamp appended (no model work: one token id).
    Returns the number of decoder steps."""
    from whisper.tokenizer import get_tokenizer

    steps = tokens_for(duration)
    asr.decode_options = {"sample_len": steps}
    model = asr.load()
    if model is None:
        return 0
    tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages)
    original = type(model).decode.__get__(model)  # the class's decode, not an earlier wrapper
    end = tokenizer.timestamp_begin + min(1500, round(min(duration, 30.0) / 0.02))

    def decode(mel, options=None, **kwargs):
        result = original(mel, options, **kwargs) if options is not None else original(mel, **kwargs)
        for r in result if isinstance(result, list) else [result]:
            if r.tokens and r.tokens[-1] < tokenizer.timestamp_begin:
                r.tokens.append(end)
        return result

    model.decode = decode
    return steps
