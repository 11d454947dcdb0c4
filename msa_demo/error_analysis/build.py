"""A corpus split's feature cache, built on demand: a fresh install has no cache, so the tab offers
each shared corpus's test and validation splits and builds the one chosen (only that split) through
the app's own pipeline, with a progress bar, into `<cache root>/<corpus>`.

Only for a corpus with no cache yet: shards are numbered over the items planned, so a second split
added to a split-only cache would overwrite the first; `python -m training.extract_shared` builds
every split at once. The extraction itself is training.extract.extract_corpus (one implementation
for the command line and the tab: a rerun skips finished shards). Your own data: set
MSA_FEATURE_CACHE to a folder of caches (one per corpus, from `python -m training.extract`, MMSA
pickles included: `--corpus mmsa --root FILE.pkl`); the page never opens a path or a pickle a visitor
names (README, Limits and security).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..corpora import CorpusError, open_corpus
from ..corpora.cache import CacheError, read_meta
from .split import ErrorAnalysisError, is_plain_name

SHARED_CORPORA = ("mosi", "meld", "ravdess", "fer2013")
BUILDABLE_SPLITS = ("test", "valid")
BUILD = "build:"  # a dropdown value "build:mosi/test": that split is not cached yet
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def shared_root() -> Path:
    """Where the shared corpora are: MSA_SHARED, else ../shared beside the repository."""
    return Path(os.environ.get("MSA_SHARED") or Path(__file__).resolve().parents[3] / "shared")


def buildable_choices(cache_root: str | Path, shared: str | Path | None = None) -> list[tuple[str, str]]:
    """(label, "build:<corpus>/<split>") for each shared corpus that has data and no cache yet."""
    shared = Path(shared or shared_root())
    choices = []
    for corpus in SHARED_CORPORA:
        if read_meta(Path(cache_root) / corpus) is not None or not (shared / "data" / corpus).is_dir():
            continue
        for split in BUILDABLE_SPLITS:
            choices.append((f"{corpus} · {split} (not cached yet: Run builds it)",
                            f"{BUILD}{corpus}/{split}"))
    return choices


class _OneSplit:
    """A corpus reader that yields only one split's items (everything else is the reader's)."""

    def __init__(self, reader, split: str):
        self._reader, self._split = reader, split

    def items(self):
        return (item for item in self._reader.items() if item.split == self._split)

    def __getattr__(self, name):
        return getattr(self._reader, name)


def build_split(pipeline, cache_root: str | Path, corpus: str, split: str, shared: str | Path | None = None,
                text_batch: int = 64) -> dict:
    """Extract `corpus`/`split` from the shared data into `<cache_root>/<corpus>`; returns its meta.
    Progress is a tqdm bar (the tab's gr.Progress tracks it). ErrorAnalysisError for what a user can
    fix (unknown corpus, no data, a cache already there)."""
    if corpus not in SHARED_CORPORA or split not in BUILDABLE_SPLITS or not is_plain_name(corpus):
        raise ErrorAnalysisError(f"cannot build '{corpus}/{split}': choose one of the offered splits")
    out = Path(cache_root) / corpus
    with _lock(corpus):
        if read_meta(out) is not None:
            raise ErrorAnalysisError(f"{corpus} already has a cache in {cache_root}: choose it in the list "
                                     "(to add its other splits: python -m training.extract_shared)")
        try:
            from training.extract import extract_corpus

            reader = _OneSplit(open_corpus(corpus, Path(shared or shared_root())), split)
            return extract_corpus(reader, out, pipeline=pipeline, progress=True, text_batch=text_batch)
        except ImportError:
            raise ErrorAnalysisError("this install has no training/ package, which builds caches") from None
        except (CorpusError, CacheError) as exc:
            raise ErrorAnalysisError(f"cannot build {corpus}/{split}: {exc}") from None


def _lock(corpus: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(corpus, threading.Lock())
