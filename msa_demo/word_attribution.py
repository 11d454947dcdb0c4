"""Which words carry the text's part of the score: leave-one-word-out on the text.

value(word) = the text modality's Shapley contribution with the whole transcript minus the same with
that word left out (the text re-embedded by MiniLM without it, the voice and the face as they are).
Positive: the word pushes the text's part of the score up.

Why leave-one-word-out and not gradient x input on the token states: the token states are contextual
(every state already mixes in its neighbours), so a gradient on one token's state misses the word's
effect through the others, and a token is often a piece of a word. Removing the word and re-reading the
sentence measures exactly what the user can check by editing the transcript, on any of the six models,
without gradients through them. It costs one MiniLM pass over N short texts and one model pass over
their 8N modality subsets, both batched.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

from .analysis import DEFAULT, explained_scores
from .features.spec import TEXT_DIM
from .features.types import ModalityFeatures

Encode = Callable[[list[str]], list[ModalityFeatures]]  # texts -> text features (TextFeaturizer.encode_batch)
MAX_WORDS = 64  # the text model reads at most 64 tokens: later words are not read at all


def transcript_words(transcript: str, timed: Sequence = ()) -> list[tuple[str, float | None, float | None]]:
    """(word, start, end) per word; times from Whisper's words when they spell the transcript."""
    words = [(w.text.strip(), float(w.start), float(w.end)) for w in timed if w.text.strip()]
    if words and " ".join(w for w, _, _ in words).split() == transcript.split():
        return words
    return [(w, None, None) for w in transcript.split()]


def word_attributions(features: Mapping[str, ModalityFeatures], model, transcript: str, encode: Encode | None,
                      timed: Sequence = (), *, guard=DEFAULT) -> list[dict]:
    """[{"word", "start", "end", "value"}], one per transcript word (times None for typed text);
    value None where it cannot be measured (no text encoder; words past the 64-token limit)."""
    words = transcript_words(transcript or "", timed)
    if not words:
        return []
    tokens = [w for w, _, _ in words]
    values: list[float | None] = [None] * len(words)
    if encode is not None:
        n = min(len(tokens), MAX_WORDS)
        texts = [" ".join(tokens)] + [" ".join(tokens[:i] + tokens[i + 1:]) for i in range(n)]
        variants = [{**features, "text": f if f is not None else ModalityFeatures.absent(TEXT_DIM)}
                    for f in encode(texts)]
        phi = [_finite(r["contributions"]["text"]) for r in explained_scores(variants, model, guard=guard)]
        values[:n] = [phi[0] - p for p in phi[1:]]
    return [{"word": w, "start": s, "end": e, "value": v} for (w, s, e), v in zip(words, values)]


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0
