"""CMU-MOSI transcripts and valence labels (text only): ../shared/data/mosi/MOSI-label.csv.

The official MMSA split (`mode`) keeps every video, hence every speaker, in one split. The same
reading of the same columns serves users' own video corpora (videos.py), so it lives here.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from .base import CorpusError, CorpusItem, CorpusReader, locate, normalise_split, parse_label

LABEL_COLUMNS = ("video_id", "clip_id", "text", "label", "mode")


def read_label_csv(path: Path) -> list[dict]:
    """Rows of a MOSI-format label CSV, with a clear message when a column is missing."""
    if not path.is_file():
        raise CorpusError(f"label file {path} not found")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(f"{path.name} lacks column(s) {', '.join(missing)} "
                              f"(MOSI format: {', '.join(LABEL_COLUMNS)})")
        return list(reader)


def item_from_row(row: dict, where: str, media: str | None, text_if_blank: str | None) -> CorpusItem:
    """A CorpusItem from one MOSI-format row; `text_if_blank` decides what an empty text means."""
    clip = f"{row['video_id']}_{row['clip_id']}"
    text = " ".join((row.get("text") or "").split())
    return CorpusItem(
        id=clip,
        split=normalise_split(row["mode"], f"{where} ({clip})"),
        label=parse_label(row["label"], f"{where} ({clip})"),
        label_class=(row.get("annotation") or "").strip().lower(),
        text=text or text_if_blank,
        media=media,
        group=row["video_id"],
    )


class MosiReader(CorpusReader):
    name = "mosi"
    licence = "CMU-MOSI (Zadeh et al. 2016), research use"
    source = "data/mosi/MOSI-label.csv (MMSA label file)"
    modalities = ("text",)
    shard_size = 512

    def __init__(self, root):
        super().__init__(root)
        self.label_file = locate(self.root, self.name, "MOSI-label.csv", "data/mosi/MOSI-label.csv")

    def items(self) -> Iterator[CorpusItem]:
        for row in read_label_csv(self.label_file):
            yield item_from_row(row, self.label_file.name, media=None, text_if_blank="")
