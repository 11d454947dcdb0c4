"""What every corpus reader yields, and the checks every reader shares.

A reader turns files in ../shared (or a user's folder) into `CorpusItem`s: an id, a split, a
valence label on the MOSI scale, the corpus's own class name, the transcript when it is known and
the media to decode. Readers never decode media themselves: extraction (training/extract.py) hands
each item to the same `FeaturePipeline` the live app uses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..features.spec import FEATURE_DIMS, FEATURE_SPEC_ID

SPLITS = ("train", "valid", "test")
_SPLIT_ALIASES = {"train": "train", "valid": "valid", "validation": "valid", "dev": "valid", "val": "valid",
                  "test": "test"}


class CorpusError(Exception):
    """A corpus folder, label file or pickle that cannot be read as promised (a user can cause it)."""


@dataclass(frozen=True)
class CorpusItem:
    """One labelled example, before features.

    `text`: the known transcript ("" = no text at all; None = unknown, let Whisper listen).
    `media`: a file path, or "zip_path::member" for a still inside a zip; None = no media.
    `group`: who is speaking/shown (speaker, actor, video), the unit of speaker-independent splits.
    `augment`: 0 for the item as recorded; k > 0 for the k-th seeded waveform variant of its voice
    (training items only: training/voice_augment.py). `scramble`: that variant's speech is first
    shuffled in word-sized pieces (`voice_augment.scramble_content`).
    """

    id: str
    split: str
    label: float
    label_class: str = ""
    label_detail: str = ""
    text: str | None = ""
    media: str | None = None
    group: str = ""
    augment: int = 0
    scramble: bool = False


class CorpusReader:
    """Base class: subclasses set the class attributes and implement `items()`."""

    name = ""
    licence = ""
    source = ""
    modalities: tuple[str, ...] = ()  # what extraction fills in; the rest is stored absent
    shard_size = 256  # items per cache shard: about a minute of extraction work per shard
    precomputed = False  # True: features come from the reader (MMSA), not from the live extractors

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        if not self.root.exists():
            raise CorpusError(f"{self.name}: {self.root} does not exist")
        self.notes: list[str] = []  # things the user should know about this reading (printed, kept in meta)

    def items(self) -> Iterator[CorpusItem]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def spec_id(self) -> str:
        return FEATURE_SPEC_ID

    @property
    def feature_dims(self) -> dict[str, int]:
        return dict(FEATURE_DIMS)

    @property
    def live_media(self) -> bool:
        """Whether a model trained on this cache can score live media (same extractors)."""
        return not self.precomputed

    def describe(self) -> dict:
        """What the cache's meta.json records about where the data came from."""
        return {"corpus": self.name, "licence": self.licence, "source": self.source, "root": str(self.root),
                "modalities": list(self.modalities), "notes": list(self.notes)}


def locate(root: Path, corpus: str, *relative: str, folder: bool = False) -> Path:
    """The first `root/relative` that exists, else `root` itself: --root may name the corpus's
    file, its folder, or the whole ../shared."""
    candidates = [root / r for r in relative] + [root]
    for path in candidates:
        if (path.is_dir() if folder else path.is_file()):
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise CorpusError(f"{corpus}: nothing to read at {root} (looked for {tried})")


def normalise_split(value: str, where: str) -> str:
    """'train' / 'valid' / 'test' from the spellings corpora use (dev, validation, val)."""
    split = _SPLIT_ALIASES.get(str(value).strip().lower())
    if split is None:
        raise CorpusError(f"{where}: unknown split '{value}' (use train, valid/dev/validation or test)")
    return split


def parse_label(value: str, where: str) -> float:
    try:
        label = float(value)
    except (TypeError, ValueError):
        raise CorpusError(f"{where}: label '{value}' is not a number") from None
    if label != label:  # NaN
        raise CorpusError(f"{where}: label is empty")
    return label


def split_counts(items: Iterable[CorpusItem]) -> dict[str, int]:
    counts = {s: 0 for s in SPLITS}
    for item in items:
        counts[item.split] += 1
    return counts


def groups_in_several_splits(items: Iterable[CorpusItem]) -> dict[str, set[str]]:
    """{group: splits} for every group (speaker, actor, video) that sits in more than one split."""
    seen: dict[str, set[str]] = defaultdict(set)
    for item in items:
        if item.group:
            seen[item.group].add(item.split)
    return {g: s for g, s in seen.items() if len(s) > 1}


ZIP_MEMBER = "::"  # media "archive.zip::folder/file.jpg": a file read straight from inside a zip
_open_zips: dict[str, "zipfile.ZipFile"] = {}


def zip_media(archive: Path, member: str) -> str:
    return f"{archive}{ZIP_MEMBER}{member}"


def read_zip_media(media: str) -> bytes:
    """Bytes of an "archive.zip::member" media reference; each process keeps its archives open."""
    import zipfile

    archive, member = media.split(ZIP_MEMBER, 1)
    if archive not in _open_zips:
        _open_zips[archive] = zipfile.ZipFile(archive)
    return _open_zips[archive].read(member)
