"""A user's labelled video corpus: a folder of clips plus a label CSV in MOSI's format.

Columns video_id, clip_id, text, label, mode (annotation optional). Each row's clip is
`<video_id>_<clip_id>.<ext>` or `<video_id>/<clip_id>.<ext>` under the folder (raw CMU-MOSI's
`Raw/<video_id>/<clip_id>.mp4` layout works as is). A non-empty `text` is used as the transcript,
so Whisper runs only for rows without one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from ..media import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from .base import CorpusError, CorpusItem, CorpusReader, groups_in_several_splits
from .mosi import item_from_row, read_label_csv

MEDIA_EXTENSIONS = VIDEO_EXTENSIONS + AUDIO_EXTENSIONS


class VideoFolderReader(CorpusReader):
    name = "videos"
    licence = "as given by the user (--licence)"
    source = "a folder of clips + a MOSI-format label CSV"
    modalities = ("text", "audio", "visual")
    shard_size = 32

    def __init__(self, root, labels: str | Path | None = None, licence: str | None = None):
        super().__init__(root)
        if not self.root.is_dir():
            raise CorpusError(f"videos: {self.root} is not a folder of clips")
        self.label_file = Path(labels) if labels else self.root / "labels.csv"
        if licence:
            self.licence = licence
        self.missing: list[str] = []  # label rows without a clip, reported rather than fatal

    def items(self) -> Iterator[CorpusItem]:
        rows = read_label_csv(self.label_file)
        clips = self._clip_index()
        items, self.missing = [], []
        for row in rows:
            video, clip = row["video_id"].strip(), row["clip_id"].strip()
            media = clips.get(f"{video}_{clip}") or clips.get(f"{video}/{clip}")
            if media is None:
                self.missing.append(f"{video}_{clip}")
                continue
            items.append(item_from_row(row, self.label_file.name, media=str(media), text_if_blank=None))
        if not items:
            raise CorpusError(f"videos: none of the {len(rows)} rows of {self.label_file.name} has a clip "
                              f"under {self.root} (expected <video_id>_<clip_id>.mp4 "
                              "or <video_id>/<clip_id>.mp4)")
        mixed = groups_in_several_splits(items)
        if self.missing:
            self.notes.append(f"{len(self.missing)} label row(s) have no clip and were skipped "
                              f"(e.g. {self.missing[0]})")
        if mixed:
            self.notes.append(f"{len(mixed)} video(s) appear in several splits (e.g. {next(iter(mixed))}): "
                              "this split is not speaker-independent")
        return iter(items)

    def _clip_index(self) -> dict[str, Path]:
        """'video_clip' and 'video/clip' -> file, from one walk two levels deep."""
        index: dict[str, Path] = {}
        for entry in os.scandir(self.root):
            if entry.is_file():
                stem, ext = os.path.splitext(entry.name)
                if ext.lower() in MEDIA_EXTENSIONS:
                    index.setdefault(stem, Path(entry.path))
            elif entry.is_dir():
                for inner in os.scandir(entry.path):
                    stem, ext = os.path.splitext(inner.name)
                    if inner.is_file() and ext.lower() in MEDIA_EXTENSIONS:
                        index.setdefault(f"{entry.name}/{stem}", Path(inner.path))
        return index
