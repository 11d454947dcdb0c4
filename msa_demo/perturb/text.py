"""ASR-like word errors: each word is deleted or replaced by a common short word, seeded.

At `rate` r about r of the words are wrong (half deletions, half substitutions), the two error kinds
that dominate a speech recogniser on noisy speech; insertions are left out (they are rarer, and a
sentiment model reads an inserted "the" as nothing).
"""

from __future__ import annotations

import numpy as np

# what a recogniser tends to put in a word's place: short, frequent, sentiment-free words
FILLERS = ("the", "a", "and", "in", "it", "is", "to", "of", "that", "on", "so", "uh", "for", "with")


def word_errors(text: str, rate: float, seed: int = 0) -> str:
    """`text` with about `rate` of its words deleted (half) or substituted (half)."""
    rng = np.random.default_rng(seed)
    out = []
    for word in text.split():
        u, pick = rng.random(), rng.integers(len(FILLERS))
        if u < rate / 2:
            continue
        if u < rate:
            filler = FILLERS[pick]
            out.append(filler if filler != word.lower() else FILLERS[(pick + 1) % len(FILLERS)])
        else:
            out.append(word)
    return " ".join(out)
