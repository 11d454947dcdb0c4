"""Where a cached item's media is, as a file the browser can play or show.

A cache row's `source` is relative to the corpus root (RAVDESS: a FLAC; FER2013: "fer2013.zip::member"
inside the zip). MOSI's cache has no media (the label file only has transcripts), but four of its
clips ship as demo media in ../shared/media/mosi_clips, named by their item id.

The root is looked for in turn: the one passed in, the cache's recorded `media_root`, $MSA_SHARED,
the ../shared next to the repository. Files are copied into the temp folder because Gradio serves
only the working folder and the temp folder; zip members are written out there too.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..corpora.base import ZIP_MEMBER, read_zip_media
from ..corpora.cache import FeatureCache

DEMO_CLIPS = {"mosi": "media/mosi_clips/{id}.mp4"}  # corpora whose cache has no media of its own
REPO_SHARED = Path(__file__).resolve().parents[2] / "shared"


def sample_dir() -> Path:
    """<tempdir>/msa-demo-samples: one copy per opened item (named by corpus and id, so re-opening
    reuses it), bounded by the items people open; removable at any time."""
    return Path(tempfile.gettempdir()) / "msa-demo-samples"


def media_roots(cache: FeatureCache, media_root: str | Path | None = None) -> list[Path]:
    candidates = [media_root, cache.meta.get("media_root"), os.environ.get("MSA_SHARED"), REPO_SHARED]
    return [Path(c) for c in candidates if c and Path(c).is_dir()]


def sample_media(cache: FeatureCache, corpus: str, row: dict, media_root: str | Path | None = None) -> str | None:
    """A servable copy of the item's media, or None when there is none (or it cannot be found)."""
    for root in media_roots(cache, media_root):
        if row.get("source"):
            reference = cache.media_path(row, root)
        elif corpus in DEMO_CLIPS:
            reference = str(root / DEMO_CLIPS[corpus].format(id=row["id"]))
        else:
            return None
        copy = _servable_copy(reference, corpus, row["id"])
        if copy is not None:
            return copy
    return None


def _servable_copy(reference: str, corpus: str, item_id: str) -> str | None:
    if ZIP_MEMBER in reference:
        archive, member = reference.split(ZIP_MEMBER, 1)
        if not Path(archive).is_file():
            return None
        suffix, read = Path(member).suffix, lambda: read_zip_media(reference)
    else:
        if not Path(reference).is_file():
            return None
        suffix, read = Path(reference).suffix, lambda: Path(reference).read_bytes()
    target = sample_dir() / _safe(corpus) / (_safe(item_id) + suffix)
    if not target.is_file():
        try:
            data = read()
        except (OSError, KeyError):  # a damaged zip or a missing member: no media, not an error
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return str(target)


def _safe(name: str) -> str:
    """A file name that stays inside its folder: no separators, and never "." or ".."."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return "_" + safe if safe.strip(".") == "" else safe
