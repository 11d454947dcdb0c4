"""Corpus readers: files in ../shared (or a user's folder) -> labelled items, one file per corpus.

`READERS` maps the names that `python -m training.extract --corpus NAME` accepts to reader classes;
`open_corpus` builds one with a clear error for an unknown name. Cached features: cache.py.
"""

from __future__ import annotations

from pathlib import Path

from .base import SPLITS, CorpusError, CorpusItem, CorpusReader
from .fer2013 import Fer2013Reader
from .meld import MeldReader
from .mmsa import MmsaReader
from .mosi import MosiReader
from .ravdess import RavdessReader
from .videos import VideoFolderReader

READERS: dict[str, type[CorpusReader]] = {
    "mosi": MosiReader,
    "meld": MeldReader,
    "ravdess": RavdessReader,
    "fer2013": Fer2013Reader,
    "videos": VideoFolderReader,
    "mmsa": MmsaReader,
}


def open_corpus(name: str, root: str | Path, labels: str | Path | None = None,
                licence: str | None = None) -> CorpusReader:
    """A reader for corpus `name` at `root`; `labels` (videos) and `licence` (user corpora) as given."""
    if name not in READERS:
        raise CorpusError(f"unknown corpus '{name}' (known: {', '.join(READERS)})")
    reader = READERS[name]
    if name == "videos":
        return reader(root, labels=labels, licence=licence)
    if labels:
        raise CorpusError(f"--labels applies to the 'videos' corpus only, not '{name}'")
    if name == "mmsa":
        return reader(root, licence=licence)
    return reader(root)


__all__ = ["READERS", "SPLITS", "CorpusError", "CorpusItem", "CorpusReader", "open_corpus"]
