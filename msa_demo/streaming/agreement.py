"""LocalAgreement: which words of a streaming transcript are settled.

Whisper re-reads the same growing audio every update, and its last words change while the speaker is
still saying them ("ex-" becomes "extreme"). A word is committed once two consecutive hypotheses
agree on it (the longest common prefix of the new words of both), as whisper-streaming does; a
committed word is never re-written, so the transcript on the page only grows. The words after the
agreed prefix are tentative: shown, and scored, but replaced by the next hypothesis.
"""

from __future__ import annotations

import re

from ..asr import Word

# a word of the new hypothesis that starts this long before the last committed word's end was heard
# already (the audio buffer overlaps what is committed)
OVERLAP_SLACK = 0.1
MAX_NGRAM = 5  # the longest run of repeated words dropped where a new hypothesis meets the committed ones
NGRAM_GAP = 1.0  # seconds: a repeat that starts later than this after the committed end is said again


def key(text: str) -> str:
    """How two hypotheses' words are compared: case and punctuation do not count."""
    return re.sub(r"[^\w']", "", text.lower())


class LocalAgreement:
    """Committed words (absolute times, only ever appended) and the last hypothesis's tentative tail."""

    def __init__(self) -> None:
        self.committed: list[Word] = []
        self.tentative: list[Word] = []

    @property
    def committed_until(self) -> float:
        """Stream time where the committed words end (0 before any)."""
        return self.committed[-1].end if self.committed else 0.0

    def insert(self, hypothesis: list[Word], commit: bool = True) -> list[Word]:
        """Take a new hypothesis (words with absolute times); return the words committed by it.
        `commit=False`: only the tentative words change (the caller does not trust the words yet)."""
        new = self._fresh(hypothesis)
        if not commit:
            self.tentative = new
            return []
        agreed = 0
        while (agreed < min(len(new), len(self.tentative))
               and key(new[agreed].text) == key(self.tentative[agreed].text)):
            agreed += 1
        settled = new[:agreed]
        self.committed.extend(settled)
        self.tentative = new[agreed:]
        return settled

    def flush(self) -> list[Word]:
        """The stream ended: the tentative words are all there is, commit them."""
        settled, self.tentative = self.tentative, []
        self.committed.extend(settled)
        return settled

    def words(self) -> list[Word]:
        """The transcript so far: committed, then tentative."""
        return self.committed + self.tentative

    def _fresh(self, hypothesis: list[Word]) -> list[Word]:
        """The hypothesis's words after what is committed: none heard before the committed end, and
        no repeat of the last committed words where the two meet."""
        until = self.committed_until
        new = [w for w in hypothesis
               if key(w.text) and (not self.committed or w.start > until - OVERLAP_SLACK)]
        if new and self.committed and new[0].start - until < NGRAM_GAP:
            tail = [key(w.text) for w in self.committed[-MAX_NGRAM:]]
            for n in range(min(MAX_NGRAM, len(new), len(tail)), 0, -1):
                if tail[-n:] == [key(w.text) for w in new[:n]]:
                    return new[n:]
        return new
