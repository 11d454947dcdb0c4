"""FER2013 face stills (48x48 grayscale jpg) read straight from fer2013.zip and its MANIFEST.csv.

Official splits (Training / PublicTest -> valid / PrivateTest -> test). FER2013 holds byte-identical
images, some in two splits and some with two different labels, so the reader de-duplicates by the
sha256 of the bytes (checked against the manifest):
- a group of copies whose labels disagree is dropped entirely (no label to trust);
- otherwise one copy is kept, in the most held-out split it occurs in (test > valid > train), so no
  image is ever seen in training and again at test time, and the test set stays as large as it can.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterator

from .base import CorpusError, CorpusItem, CorpusReader, locate, normalise_split, zip_media
from .labels import emotion_valence

SPLIT_PRIORITY = {"test": 0, "valid": 1, "train": 2}


@dataclass
class DedupReport:
    """How many images the sha256 de-duplication removed, and why (numbers for the data card)."""

    images: int = 0
    unique_hashes: int = 0
    duplicate_groups: int = 0
    cross_split_groups: int = 0
    conflicting_groups: int = 0
    conflicting_images: int = 0
    duplicate_copies_removed: int = 0
    kept: int = 0
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)


class Fer2013Reader(CorpusReader):
    name = "fer2013"
    licence = "FER2013 (Goodfellow et al. 2013), research use"
    source = "data/fer2013/fer2013.zip (48x48 jpg + MANIFEST.csv)"
    modalities = ("visual",)
    shard_size = 1000

    def __init__(self, root):
        super().__init__(root)
        self.archive = locate(self.root, self.name, "fer2013.zip", "data/fer2013/fer2013.zip")
        self.report = DedupReport()
        self._items: list[CorpusItem] | None = None

    def items(self) -> Iterator[CorpusItem]:
        if self._items is None:
            self._items = self._deduplicated()
        return iter(self._items)

    def _rows(self) -> list[dict]:
        try:
            with zipfile.ZipFile(self.archive) as zf:
                manifest = list(csv.DictReader(io.TextIOWrapper(zf.open("MANIFEST.csv"), "utf-8")))
                for row in manifest:
                    digest = hashlib.sha256(zf.read(row["file"])).hexdigest()
                    if digest != row["sha256"]:
                        raise CorpusError(f"fer2013: {row['file']} does not match its manifest sha256 "
                                          "(the zip is damaged or not the one MANIFEST.csv describes)")
        except (zipfile.BadZipFile, KeyError) as exc:
            raise CorpusError(f"fer2013: {self.archive} is not the FER2013 zip with MANIFEST.csv "
                              f"({exc})") from None
        return manifest

    def _deduplicated(self) -> list[CorpusItem]:
        rows = self._rows()
        groups: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            row["split"] = normalise_split(row["split"], f"fer2013 {row['file']}")
            groups[row["sha256"]].append(row)
        report = DedupReport(images=len(rows), unique_hashes=len(groups),
                             before=dict(Counter(r["split"] for r in rows)))
        kept = []
        for copies in groups.values():
            if len(copies) > 1:
                report.duplicate_groups += 1
                report.cross_split_groups += len({c["split"] for c in copies}) > 1
            if len({c["label"] for c in copies}) > 1:
                report.conflicting_groups += 1
                report.conflicting_images += len(copies)
                continue
            kept.append(min(copies, key=lambda c: (SPLIT_PRIORITY[c["split"]], c["file"])))
            report.duplicate_copies_removed += len(copies) - 1
        kept.sort(key=lambda r: (SPLIT_PRIORITY[r["split"]], r["file"]))
        report.kept = len(kept)
        report.after = dict(Counter(r["split"] for r in kept))
        self.report = report
        return [self._item(r) for r in kept]

    def _item(self, row: dict) -> CorpusItem:
        emotion = row["label"].strip().lower()
        return CorpusItem(
            id=row["file"].rsplit(".", 1)[0], split=row["split"],  # the stem alone repeats across folders
            label=emotion_valence(emotion), label_class=emotion, label_detail=row["fer_usage"],
            text="", media=zip_media(self.archive, row["file"]), group=row["sha256"],
        )
