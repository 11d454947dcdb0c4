"""RAVDESS speech (audio, 16 kHz FLAC) with its fixed sentence as text: ../shared/data/ravdess.

Speaker-independent split by actor: 1-16 train, 17-18 valid, 19-20 test. The file name
`03-01-EE-II-SS-RR-AA` carries every label, so the reader needs only the files themselves.
The sentence is the same neutral one for all emotions: text carries no emotion here by design.
"""

from __future__ import annotations

from typing import Iterator

from .base import CorpusError, CorpusItem, CorpusReader, locate
from .labels import emotion_valence

EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgust", "08": "surprised"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def actor_split(actor: int) -> str:
    if 1 <= actor <= 16:
        return "train"
    if actor <= 18:
        return "valid"
    if actor <= 20:
        return "test"
    raise CorpusError(f"ravdess: actor {actor} is outside 1-20 (the split covers actors 1-20 only)")


class RavdessReader(CorpusReader):
    name = "ravdess"
    licence = "RAVDESS (Livingstone & Russo 2018), CC BY-NC-SA 4.0"
    source = "data/ravdess/Actor_01..Actor_20/*.flac (speech, 16 kHz mono)"
    modalities = ("text", "audio")
    shard_size = 100

    def __init__(self, root):
        super().__init__(root)
        self.folder = locate(self.root, self.name, "data/ravdess", folder=True)

    def items(self) -> Iterator[CorpusItem]:
        files = sorted(self.folder.glob("Actor_*/03-01-*.*"))
        if not files:
            raise CorpusError(f"ravdess: no Actor_*/03-01-*.flac files under {self.folder}")
        for path in files:
            yield self._item(path)

    def _item(self, path) -> CorpusItem:
        parts = path.stem.split("-")
        if len(parts) != 7 or parts[2] not in EMOTIONS or parts[4] not in STATEMENTS:
            raise CorpusError(f"ravdess: {path.name} is not named 03-01-EE-II-SS-RR-AA")
        emotion = EMOTIONS[parts[2]]
        actor = int(parts[6])
        return CorpusItem(
            id=path.stem, split=actor_split(actor), label=emotion_valence(emotion), label_class=emotion,
            label_detail=INTENSITIES.get(parts[3], parts[3]), text=STATEMENTS[parts[4]], media=str(path),
            group=f"actor_{actor:02d}",
        )
