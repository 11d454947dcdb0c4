"""MELD utterances (text only) with their sentiment and emotion: ../shared/data/meld/*_sent_emo.csv.

The valence comes from MELD's own per-utterance Sentiment, not from the emotion, so MELD's
surprise keeps the sign its annotators gave it. Official splits (dev -> valid) are by dialogue;
the six Friends leads speak in every split, so MELD cannot be split by speaker (docs/DATA.md).
"""

from __future__ import annotations

import csv
from typing import Iterator

from .base import CorpusError, CorpusItem, CorpusReader, locate
from .labels import sentiment_valence

FILES = {"train": "train_sent_emo.csv", "valid": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}


class MeldReader(CorpusReader):
    name = "meld"
    licence = "MELD (Poria et al. 2019), GPL-3.0"
    source = "data/meld/{train,dev,test}_sent_emo.csv"
    modalities = ("text",)
    shard_size = 512

    def __init__(self, root):
        super().__init__(root)
        self.folder = locate(self.root, self.name, "data/meld", folder=True)

    def items(self) -> Iterator[CorpusItem]:
        for split, name in FILES.items():
            path = self.folder / name
            if not path.is_file():
                raise CorpusError(f"meld: {path} not found")
            with open(path, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    uid = f"{split}_dia{row['Dialogue_ID']}_utt{row['Utterance_ID']}"
                    try:
                        label = sentiment_valence(row["Sentiment"])
                    except KeyError as exc:
                        raise CorpusError(f"meld {name} ({uid}): {exc.args[0]}") from None
                    yield CorpusItem(
                        id=uid, split=split, label=label,
                        label_class=row["Sentiment"].strip().lower(),
                        label_detail=row["Emotion"].strip().lower(),
                        text=" ".join(row["Utterance"].split()),
                        group=row["Speaker"].strip(),
                    )
