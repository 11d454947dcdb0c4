"""The one label mapping: emotion and sentiment classes onto MOSI's valence scale, and valence -> polarity.

Training (regression on valence) and evaluation (polarity-3 accuracy/F1 on class-labelled corpora)
both go through this file, so a class can never mean one thing when learnt and another when scored.
Why each value is what it is: docs/DATA.md, "Label mapping".

- Non-neutral classes sit at ±1.5: MOSI's own Negative / Positive annotation classes average
  −1.40 / +1.46 on this scale (`python -m training.corpus_stats mosi`), well outside the neutral band.
- Polarity-3 uses MMSA's Acc-3 bins (clip to ±1, round half to even): |v| <= 0.5 is neutral.
- Surprise is 0 (neutral): in MELD, where every utterance carries both an emotion and a sentiment,
  surprise is split almost evenly, 856 negative / 780 positive; its sign is not in the class.
- Calm is 0 (neutral): RAVDESS's low-arousal variant of its neutral delivery, not a pleasant emotion.
"""

from __future__ import annotations

import numpy as np

POLARITY3 = ("negative", "neutral", "positive")
NEUTRAL_BAND = 0.5  # |valence| <= this is neutral (MMSA Acc-3 bins)
CLASS_VALENCE = 1.5  # where a negative/positive class sits on the −3..+3 scale

SENTIMENT_VALENCE = {"negative": -CLASS_VALENCE, "neutral": 0.0, "positive": CLASS_VALENCE}

# canonical emotion -> valence; the spellings each corpus uses are in EMOTION_SPELLINGS
EMOTION_VALENCE = {
    "neutral": 0.0,
    "calm": 0.0,
    "happy": CLASS_VALENCE,
    "surprised": 0.0,
    "sad": -CLASS_VALENCE,
    "angry": -CLASS_VALENCE,
    "fearful": -CLASS_VALENCE,
    "disgust": -CLASS_VALENCE,
}
EMOTION_SPELLINGS = {  # corpus -> {its spelling: canonical}
    "ravdess": {e: e for e in EMOTION_VALENCE},  # RAVDESS's names are the canonical ones
    "fer2013": {"neutral": "neutral", "happy": "happy", "surprise": "surprised", "sad": "sad",
                "angry": "angry", "fear": "fearful", "disgust": "disgust"},
    "meld": {"neutral": "neutral", "joy": "happy", "surprise": "surprised", "sadness": "sad",
             "anger": "angry", "fear": "fearful", "disgust": "disgust"},
}
_ANY_SPELLING = {k: v for spellings in EMOTION_SPELLINGS.values() for k, v in spellings.items()}


def emotion_valence(emotion: str) -> float:
    """Valence of an emotion name in any corpus's spelling (RAVDESS, FER2013, MELD)."""
    key = emotion.strip().lower()
    if key not in _ANY_SPELLING:
        raise KeyError(f"unknown emotion '{emotion}' (known: {', '.join(sorted(_ANY_SPELLING))})")
    return EMOTION_VALENCE[_ANY_SPELLING[key]]


# canonical emotion -> arousal ("how strongly"), binary: Russell's circumplex (1980) as acted
# corpora are usually binarised (docs/DATA.md, "Arousal"): calm, neutral and sad low; the rest high
EMOTION_AROUSAL = {"neutral": 0, "calm": 0, "sad": 0, "happy": 1, "surprised": 1, "angry": 1, "fearful": 1,
                   "disgust": 1}
AROUSAL = ("low", "high")


def emotion_arousal(emotion: str) -> int:
    """1 (high) or 0 (low) for an emotion name in any corpus's spelling."""
    key = emotion.strip().lower()
    if key not in _ANY_SPELLING:
        raise KeyError(f"unknown emotion '{emotion}' (known: {', '.join(sorted(_ANY_SPELLING))})")
    return EMOTION_AROUSAL[_ANY_SPELLING[key]]


def sentiment_valence(sentiment: str) -> float:
    key = sentiment.strip().lower()
    if key not in SENTIMENT_VALENCE:
        raise KeyError(f"unknown sentiment '{sentiment}' (known: {', '.join(POLARITY3)})")
    return SENTIMENT_VALENCE[key]


def polarity3(valence: float) -> str:
    """'negative' / 'neutral' / 'positive' for one valence (scores and labels alike)."""
    return POLARITY3[int(polarity3_index(np.asarray([valence]))[0])]


def polarity3_index(valence) -> np.ndarray:
    """0 negative, 1 neutral, 2 positive, for an array of valences (vectorised, for metrics)."""
    v = np.asarray(valence, dtype=np.float64)
    return np.where(v < -NEUTRAL_BAND, 0, np.where(v > NEUTRAL_BAND, 2, 1)).astype(np.int64)


def mapping_rows() -> list[dict]:
    """The table of docs/DATA.md, generated from the values above."""
    rows = []
    for canonical, valence in EMOTION_VALENCE.items():
        spelled = {corpus: next((k for k, v in sp.items() if v == canonical), "—")
                   for corpus, sp in EMOTION_SPELLINGS.items()}
        rows.append({"class": canonical, "kind": "emotion", **spelled, "valence": valence,
                     "polarity": polarity3(valence)})
    for sentiment, valence in SENTIMENT_VALENCE.items():
        rows.append({"class": sentiment, "kind": "sentiment (MELD)", "ravdess": "—",
                     "fer2013": "—", "meld": sentiment, "valence": valence, "polarity": polarity3(valence)})
    return rows


def markdown_table() -> str:
    """The table docs/DATA.md shows (printed by `python -m training.corpus_stats`)."""
    lines = ["| class | kind | RAVDESS | FER2013 | MELD | valence | polarity-3 |",
             "|---|---|---|---|---|---|---|"]
    for r in mapping_rows():
        lines.append(f"| {r['class']} | {r['kind']} | {r['ravdess']} | {r['fer2013']} | {r['meld']} | "
                     f"{r['valence']:+.1f} | {r['polarity']} |")
    return "\n".join(lines)
